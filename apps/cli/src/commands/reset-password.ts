import { SessionExpiredError } from '@breakwater/client'
import type { CommandContext } from '../context.js'
import { rephrase } from '../errors.js'
import { linkToken } from '../link-token.js'
import { readPassword, readSecret, UsageError } from '../prompt.js'

const USAGE =
  'Usage: breakwater reset-password --email <email>, or breakwater reset-password <link>'

/**
 * `reset-password --email E`: mails a reset link, then asks for it and the new
 * password. `reset-password <link>`: skips the mail. Every session of the
 * account ends (SPEC §9), so stored credentials of that account are forgotten.
 */
export async function resetPassword(
  ctx: CommandContext,
  options: { email?: string },
  link: string | undefined,
): Promise<void> {
  let pasted = link
  if (pasted === undefined) {
    if (!options.email) throw new UsageError(USAGE)
    await ctx.client.auth.requestPasswordReset.mutate({ email: options.email })
    // The server answers alike for unknown addresses (no enumeration); so do we.
    ctx.out(`If ${options.email} has an account, a reset link is on its way to it.`)
    pasted = await readSecret(
      'Paste the link from the mail (or its token): ',
      'The link from the mail is required (paste it at the prompt or pipe it on stdin).',
    )
  }
  const token = linkToken(pasted, 'reset-password')
  const newPassword = await readPassword('New password: ')
  await rephrase(ctx.client.auth.resetPassword.mutate({ token, newPassword }), {
    // The policy is checked before the token is spent: the same link works again.
    WEAK_PASSWORD:
      "The password is too weak: use 12 to 256 characters, not a common password. The link still works: breakwater reset-password '<link>'",
  })
  ctx.out('Password changed. Every session of the account has ended.')
  if (await forgetEndedSession(ctx)) ctx.out('The stored credentials were for it: signed out here.')
}

/**
 * Whether the stored credentials belonged to the account just reset: the
 * server now refuses their session, and they are deleted. Another account's
 * are kept; on a network failure nothing is decided.
 */
async function forgetEndedSession(ctx: CommandContext): Promise<boolean> {
  if (!(await ctx.store.get())) return false
  try {
    await ctx.client.auth.me.query()
    return false
  } catch (error) {
    if (!(error instanceof SessionExpiredError)) return false
    // The client forgets an ended session itself; clearing again makes sure before we exit.
    await ctx.store.clear()
    return true
  }
}
