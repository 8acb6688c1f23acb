import {
  createSession,
  createUser,
  DatabaseError,
  findUserByEmail,
  findUserById,
  revokeSession,
  type User,
} from '@breakwater/db'
import { hashRefreshToken, mintRefreshToken } from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import { acceptPassword } from '../guard/password-policy.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { sessionsEnded } from './end.js'
import { checkPassword, hashing } from './password-check.js'
import { type IssuedSession, issue } from './tokens.js'

export interface SignedIn extends IssuedSession {
  readonly user: User
}

/**
 * Opens a session for a user who just proved who they are. The password the
 * proof used must still be the user's when the session exists (SPEC §6): a
 * password change that commits in between bumps `tokenVersion`, and either its
 * revocation sees this session or this check sees the new version (both
 * statements run after their own write commits), so the session never
 * outlives the password it was opened with.
 */
export async function openSession(
  runtime: Runtime,
  user: User,
  client: ClientInfo,
  auditType: 'user.registered' | 'login.succeeded',
): Promise<SignedIn> {
  const refreshToken = mintRefreshToken()
  const session = await createSession(runtime.database.db, {
    userId: user.id,
    refreshTokenHash: hashRefreshToken(refreshToken),
    idleTtlSeconds: runtime.options.refreshIdleTtl,
    maxAgeSeconds: runtime.options.sessionMaxAge,
    userAgent: client.userAgent,
    ip: client.ip,
    now: runtime.now(),
  })
  const current = await findUserById(runtime.database.db, user.id)
  if (current?.tokenVersion !== user.tokenVersion) {
    const revoked = await revokeSession(runtime.database.db, {
      sessionId: session.id,
      reason: 'password_changed',
      now: runtime.now(),
    })
    await sessionsEnded(runtime, revoked, { userId: user.id, reason: 'password_changed', client })
    throw new BreakwaterError('INVALID_CREDENTIALS')
  }
  runtime.recentSessions.set(session.id, { user, session })
  await runtime.audit({ type: auditType, userId: user.id, sessionId: session.id, ...client })
  return { user, ...(await issue(runtime, session, refreshToken)) }
}

/** `auth.register`: counts the attempt per address, checks the password rule, creates the user, signs in. */
export async function register(
  runtime: Runtime,
  input: { email: string; password: string; displayName?: string | undefined },
  client: ClientInfo,
): Promise<SignedIn> {
  await limitAttemptsFromIp(runtime, client.ip)
  const password = acceptPassword(input.password)
  const passwordHash = await hashing(() => runtime.passwords.hash(password))
  let user: User
  try {
    user = await createUser(runtime.database.db, {
      email: input.email,
      passwordHash,
      displayName: input.displayName ?? null,
      now: runtime.now(),
    })
  } catch (error) {
    if (error instanceof DatabaseError && error.code === 'EMAIL_TAKEN')
      throw new BreakwaterError('EMAIL_TAKEN')
    throw error
  }
  return openSession(runtime, user, client, 'user.registered')
}

/** `auth.login`: the guarded password check, then a new session. */
export async function login(
  runtime: Runtime,
  input: { email: string; password: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const found = await findUserByEmail(runtime.database.db, input.email)
  const user = await checkPassword(runtime, {
    email: input.email,
    user: found,
    password: input.password,
    client,
  })
  return openSession(runtime, user, client, 'login.succeeded')
}
