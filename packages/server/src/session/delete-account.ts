import { deleteUser, inTransaction, revokeUserSessions, teamTransaction } from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { HookRefusal, teamHook } from '../hooks.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { sessionsEnded } from './end.js'
import { checkCurrentPassword } from './password-check.js'

/**
 * `auth.deleteAccount`: the current password (the guarded check), then one
 * transaction that ends every session (announced to every instance when it
 * commits), runs the team's `beforeDeleteUser`, and deletes the user with its
 * sessions and tokens. The address is free to register again; the audit trail
 * keeps its rows under the user's id. A hook's throw rolls it all back and
 * answers `DELETION_REJECTED` (as a registration hook's answers
 * `REGISTRATION_REJECTED`), unless it threw a `BreakwaterError` on purpose; either
 * refusal is audited as `account.deletion_refused`.
 */
export async function deleteAccount(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  currentPassword: string,
  client: ClientInfo,
): Promise<void> {
  const user = await checkCurrentPassword(runtime, caller, currentPassword, client, 'deleteAccount')
  const { beforeDeleteUser } = runtime.options.hooks
  const now = runtime.now()
  const revoked = await inTransaction(runtime.database.db, async (trx) => {
    const ended = await revokeUserSessions(trx, {
      userId: user.id,
      reason: 'account_deleted',
      now,
    })
    if (beforeDeleteUser)
      await teamHook(() => beforeDeleteUser(user, { transaction: teamTransaction(trx), client }))
    await deleteUser(trx, user.id)
    return ended
  }).catch(async (error: unknown) => {
    // The hook refused (crashed, or chose a BreakwaterError): in the trail with the reason
    // the client gets; a crash's own words go to the log only.
    let answer: BreakwaterError
    if (error instanceof HookRefusal) {
      runtime.log.warn({ err: error.cause }, 'a beforeDeleteUser hook refused a deletion')
      answer = new BreakwaterError('DELETION_REJECTED')
    } else if (error instanceof BreakwaterError) answer = error
    else throw error
    await runtime.audit({
      type: 'account.deletion_refused',
      userId: user.id,
      ...client,
      details: { reason: answer.reason },
    })
    throw answer
  })
  forgetUser(runtime, user.id)
  await sessionsEnded(runtime, revoked, { userId: user.id, reason: 'account_deleted', client })
  await runtime.audit({ type: 'account.deleted', userId: user.id, ...client })
}
