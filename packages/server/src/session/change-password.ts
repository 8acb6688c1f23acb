import { revokeUserSessions, updatePasswordHash } from '@breakwater/db'
import { acceptPassword } from '../guard/password-policy.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { sessionsEnded } from './end.js'
import { checkCurrentPassword, hashing } from './password-check.js'

/**
 * `auth.changePassword`: the guarded password check (account and address
 * limits, bounded hash queue), then the new hash and the end of every other
 * session. The hash change bumps `tokenVersion`, which a
 * login racing this one re-reads after opening its session (see `openSession`).
 */
export async function changePassword(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  input: { currentPassword: string; newPassword: string },
  client: ClientInfo,
): Promise<void> {
  const user = await checkCurrentPassword(
    runtime,
    caller,
    input.currentPassword,
    client,
    'changePassword',
  )
  const newPassword = acceptPassword(input.newPassword)
  const passwordHash = await hashing(() => runtime.passwords.hash(newPassword))
  const now = runtime.now()
  // Two statements, not one transaction, on purpose: the revocation must start
  // after the new hash has committed, so a racing login either opened its
  // session before (and is revoked here) or reads the new tokenVersion.
  await updatePasswordHash(runtime.database.db, { userId: user.id, passwordHash, now })
  const revoked = await revokeUserSessions(runtime.database.db, {
    userId: user.id,
    exceptSessionId: caller.sessionId,
    reason: 'password_changed',
    now,
  })
  await sessionsEnded(runtime, revoked, { userId: user.id, reason: 'password_changed', client })
  await runtime.audit({
    type: 'password.changed',
    userId: user.id,
    sessionId: caller.sessionId,
    ...client,
  })
}
