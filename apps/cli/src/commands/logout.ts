import type { CommandContext } from '../context.js'

/** `logout`: ends this session on the server and deletes the credentials file. */
export async function logout(ctx: CommandContext): Promise<void> {
  if (!(await ctx.store.get())) {
    ctx.out('Not signed in.')
    return
  }
  // The client forgets the tokens even if the server cannot be told (the refresh link does that).
  await ctx.client.auth.logout.mutate()
  ctx.out('Signed out.')
}
