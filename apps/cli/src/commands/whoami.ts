import type { CommandContext } from '../context.js'
import { NotSignedIn } from '../errors.js'

/**
 * `whoami`: the signed-in user's email (refreshing the access token if it
 * expired). stdout stays the address alone, for scripts; "(unverified)" goes to stderr.
 */
export async function whoami(ctx: CommandContext): Promise<void> {
  if (!(await ctx.store.get())) throw new NotSignedIn()
  const { user } = await ctx.client.auth.me.query()
  ctx.out(user.email)
  if (!user.emailVerified) ctx.note('(unverified: run breakwater verify to get a link)')
}
