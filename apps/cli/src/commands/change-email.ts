import type { CommandContext } from '../context.js'
import { NotSignedIn, rephrase } from '../errors.js'
import { linkToken } from '../link-token.js'
import { readPassword, UsageError } from '../prompt.js'

const USAGE =
  'Usage: breakwater change-email --email <new-email>, or breakwater change-email <link>'

/**
 * `change-email --email NEW` (signed in): asks the current password and has a
 * confirmation link mailed to NEW. `change-email <link>`: confirms; the
 * address changes only then, so a typo in NEW changes nothing.
 */
export async function changeEmail(
  ctx: CommandContext,
  options: { email?: string },
  link: string | undefined,
): Promise<void> {
  if (link !== undefined) {
    await rephrase(
      ctx.client.auth.confirmEmailChange.mutate({ token: linkToken(link, 'change-email') }),
      {
        EMAIL_TAKEN:
          'Another account took that address meanwhile: your email address is unchanged.',
      },
    )
    ctx.out('Email address changed.')
    return
  }
  const newEmail = options.email
  if (!newEmail) throw new UsageError(USAGE)
  if (!(await ctx.store.get())) throw new NotSignedIn()
  const currentPassword = await readPassword('Current password: ')
  await rephrase(ctx.client.auth.requestEmailChange.mutate({ newEmail, currentPassword }), {
    INVALID_CREDENTIALS: 'Wrong password. Your email address is unchanged.',
    // Another account's address gets the same answer as a free one (no enumeration): only this remains.
    EMAIL_TAKEN: 'That is already your email address.',
  })
  ctx.out(
    `Unless ${newEmail} belongs to another account, a confirmation link is on its way to it: open it, or run breakwater change-email '<link>'. Your current address got a notice.`,
  )
}
