import type { CommandContext } from '../context.js'
import { NotSignedIn } from '../errors.js'
import { linkToken } from '../link-token.js'

/**
 * `verify`: mails the signed-in user a verification link. `verify <link>`:
 * uses it (no sign-in needed: the link is the proof).
 */
export async function verify(ctx: CommandContext, link: string | undefined): Promise<void> {
  if (link !== undefined) {
    await ctx.client.auth.verifyEmail.mutate({ token: linkToken(link, 'verify') })
    ctx.out('Email address verified.')
    return
  }
  if (!(await ctx.store.get())) throw new NotSignedIn()
  // The server answers the same either way; asking first spares a verified user a pointless wait for mail.
  const { user } = await ctx.client.auth.me.query()
  if (user.emailVerified) {
    ctx.out(`${user.email} is already verified.`)
    return
  }
  await ctx.client.auth.requestEmailVerification.mutate()
  ctx.out(`Sent a verification link to ${user.email}. Open it, or run: breakwater verify '<link>'`)
}
