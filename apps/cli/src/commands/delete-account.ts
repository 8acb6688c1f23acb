import type { CommandContext } from '../context.js'
import { CommandError, NotSignedIn, rephrase } from '../errors.js'
import { readLine, readPassword } from '../prompt.js'

/**
 * `delete-account` (signed in): asks the current password, then the account's
 * email as a confirmation (`--yes` skips it, for scripts); deletes the account,
 * which ends every session, and forgets the stored credentials.
 */
export async function deleteAccount(
  ctx: CommandContext,
  options: { yes?: boolean },
): Promise<void> {
  if (!(await ctx.store.get())) throw new NotSignedIn()
  const { user } = await ctx.client.auth.me.query()
  const currentPassword = await readPassword('Current password: ')
  if (!options.yes) {
    const typed = await readLine(
      `This deletes ${user.email} and its data for good. Type the address to confirm: `,
      'Type the account email to confirm, or pass --yes.',
    )
    if (typed.trim().toLowerCase() !== user.email.toLowerCase())
      throw new CommandError(`That is not ${user.email}: nothing was deleted.`)
  }
  // The client forgets the stored credentials once the deletion succeeded.
  await rephrase(ctx.client.auth.deleteAccount.mutate({ currentPassword }), {
    INVALID_CREDENTIALS: 'Wrong password: nothing was deleted.',
  })
  ctx.out(`Deleted the account ${user.email}; signed out.`)
}
