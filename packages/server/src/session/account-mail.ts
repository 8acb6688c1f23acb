import {
  consumeOneTimeToken,
  findUserByEmail,
  findUserById,
  markEmailVerified,
  revokeUserSessions,
  updatePasswordHash,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { acceptPassword } from '../guard/password-policy.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { sessionsEnded } from './end.js'
import { afterAnswering, linkRefused, mailLink, mayMail, tokenDigest } from './mail-links.js'
import { hashing } from './password-check.js'

/** `auth.requestEmailVerification`: mails the signed-in user a verification link. */
export async function requestEmailVerification(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  client: ClientInfo,
): Promise<void> {
  // Every mailing request passes the per-IP limit (docs/security.md), this one too.
  await limitAttemptsFromIp(runtime, client.ip)
  const user = await findUserById(runtime.database.db, caller.userId)
  if (!user) throw new BreakwaterError('SESSION_REVOKED')
  if (user.emailVerifiedAt === null && (await mayMail(runtime, user.email)))
    await mailLink(runtime, user, 'verify_email', runtime.options.verificationTtl)
  await runtime.audit({
    type: 'email.verification_requested',
    userId: user.id,
    sessionId: caller.sessionId,
    ...client,
  })
}

/** `auth.verifyEmail`: uses the link's token; the address is verified. */
export async function verifyEmail(
  runtime: Runtime,
  token: string,
  client: ClientInfo,
): Promise<void> {
  await limitAttemptsFromIp(runtime, client.ip)
  const used = await consumeOneTimeToken(runtime.database.db, {
    purpose: 'verify_email',
    tokenHash: tokenDigest(runtime, 'verify_email', token),
    now: runtime.now(),
  })
  if (!used) throw await linkRefused(runtime, 'verify_email', client)
  await markEmailVerified(runtime.database.db, used.userId, runtime.now())
  forgetUser(runtime, used.userId)
  await runtime.audit({ type: 'email.verified', userId: used.userId, ...client })
}

/**
 * `auth.requestPasswordReset`: the same answer, and the same work before it,
 * for any address; the link is issued and mailed after the answer, and an
 * unknown address gets nothing (SPEC §9).
 */
export async function requestPasswordReset(
  runtime: Runtime,
  email: string,
  client: ClientInfo,
): Promise<void> {
  await limitAttemptsFromIp(runtime, client.ip)
  const user = await findUserByEmail(runtime.database.db, email)
  const allowed = await mayMail(runtime, email)
  if (user && allowed) {
    afterAnswering(runtime, user.id, () =>
      mailLink(runtime, user, 'reset_password', runtime.options.passwordResetTtl),
    )
  }
  await runtime.audit({
    type: 'password.reset_requested',
    userId: user?.id ?? null,
    ...client,
    details: user ? { sent: allowed } : { unknownAddress: true },
  })
}

/**
 * `auth.resetPassword`: the new password must pass the policy before the token
 * is spent; then the token is used (once, atomically), the hash replaced, and
 * every session of the user ends on every instance (SPEC §9).
 */
export async function resetPassword(
  runtime: Runtime,
  input: { token: string; newPassword: string },
  client: ClientInfo,
): Promise<void> {
  await limitAttemptsFromIp(runtime, client.ip)
  const password = acceptPassword(input.newPassword)
  const used = await consumeOneTimeToken(runtime.database.db, {
    purpose: 'reset_password',
    tokenHash: tokenDigest(runtime, 'reset_password', input.token),
    now: runtime.now(),
  })
  if (!used) throw await linkRefused(runtime, 'reset_password', client)
  const passwordHash = await hashing(() => runtime.passwords.hash(password))
  const now = runtime.now()
  // As in changePassword: the new hash (and token version) commits before the
  // revocation, so a racing login either is revoked here or reads the new version.
  await updatePasswordHash(runtime.database.db, { userId: used.userId, passwordHash, now })
  const revoked = await revokeUserSessions(runtime.database.db, {
    userId: used.userId,
    reason: 'password_reset',
    now,
  })
  await sessionsEnded(runtime, revoked, { userId: used.userId, reason: 'password_reset', client })
  await runtime.audit({ type: 'password.reset', userId: used.userId, ...client })
}
