import { randomBytes } from 'node:crypto'
import {
  canonicalEmail,
  consumeOneTimeToken,
  findUserByEmail,
  findUserById,
  hitRateLimit,
  issueOneTimeToken,
  markEmailVerified,
  type OneTimeTokenPurpose,
  revokeUserSessions,
  type User,
  updatePasswordHash,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { acceptPassword } from '../guard/password-policy.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import { DEFAULT_TEMPLATES, type MailContext, type MailTemplates } from '../mail/templates.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { sessionsEnded } from './end.js'
import { hashing } from './password-check.js'

/** 256 random bits, base64url: a link token (SPEC §9 asks ≥ 128). */
function mintLinkToken(): string {
  return randomBytes(32).toString('base64url')
}

/** How a token is stored: the server's keyed digest, bound to its purpose. */
function tokenDigest(runtime: Runtime, purpose: OneTimeTokenPurpose, token: string): string {
  return runtime.secrets.digest(purpose, token)
}

/**
 * Counts a mail to this address; past `mailLimit` nothing is sent and nothing
 * is said (the answer is the same either way: no enumeration).
 */
async function mayMail(runtime: Runtime, email: string): Promise<boolean> {
  const { max, windowSeconds } = runtime.options.mailLimit
  const verdict = await hitRateLimit(runtime.database.db, {
    key: `mail:${canonicalEmail(email)}`,
    limit: max,
    windowSeconds,
    now: runtime.now(),
  })
  return verdict.allowed
}

function template(runtime: Runtime, name: keyof MailTemplates) {
  return runtime.options.mail.templates?.[name] ?? DEFAULT_TEMPLATES[name]
}

/** Issues a link token for a user and mails the link. */
async function mailLink(
  runtime: Runtime,
  user: User,
  purpose: 'verify_email' | 'reset_password',
  ttlSeconds: number,
): Promise<void> {
  const token = mintLinkToken()
  await issueOneTimeToken(runtime.database.db, {
    userId: user.id,
    purpose,
    tokenHash: tokenDigest(runtime, purpose, token),
    ttlSeconds,
    now: runtime.now(),
  })
  const action = purpose === 'verify_email' ? 'verify-email' : 'reset-password'
  const context: MailContext = {
    appName: runtime.options.mail.appName ?? 'Breakwater',
    email: user.email,
    displayName: user.displayName,
    link: `${runtime.publicUrl()}/${action}?token=${token}`,
    minutes: Math.round(ttlSeconds / 60),
  }
  const render = template(runtime, purpose === 'verify_email' ? 'verifyEmail' : 'resetPassword')
  runtime.mailer.send({ ...render(context), to: user.email, purpose })
}

/** `auth.requestEmailVerification`: mails the signed-in user a verification link. */
export async function requestEmailVerification(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  client: ClientInfo,
): Promise<void> {
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
  if (!used) throw new BreakwaterError('LINK_INVALID')
  await markEmailVerified(runtime.database.db, used.userId, runtime.now())
  forgetUser(runtime, used.userId)
  await runtime.audit({ type: 'email.verified', userId: used.userId, ...client })
}

/**
 * `auth.requestPasswordReset`: the same answer, and the same work up to the
 * mail, for any address; an unknown one gets no mail (SPEC §9).
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
    await mailLink(runtime, user, 'reset_password', runtime.options.passwordResetTtl)
  } else {
    // The digest a real request computes, so both paths do the same CPU work.
    tokenDigest(runtime, 'reset_password', mintLinkToken())
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
  if (!used) throw new BreakwaterError('LINK_INVALID')
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
