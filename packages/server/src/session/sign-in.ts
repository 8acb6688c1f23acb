import {
  createSession,
  createUser,
  DatabaseError,
  findUserByEmail,
  findUserById,
  inTransaction,
  revokeSession,
  teamTransaction,
  type User,
} from '@breakwater/db'
import { hashRefreshToken, mintRefreshToken } from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import { acceptPassword } from '../guard/password-policy.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import { afterTheFact, HookRefusal, teamHook } from '../hooks.js'
import type { Registration } from '../router/builders.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { rememberSession } from './current.js'
import { sessionsEnded } from './end.js'
import { checkPassword, hashing } from './password-check.js'
import { needsSecondFactor, openChallenge, type SecondFactorRequired } from './second-factor.js'
import { type IssuedSession, issue } from './tokens.js'

/** How the user proved who they are, as `afterSignIn` is told. */
export type SignInMethod = 'register' | 'password' | 'code' | 'passkey'

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
  method: SignInMethod,
  amr: readonly string[] = method === 'code' ? ['otp'] : ['pwd'],
): Promise<SignedIn> {
  const refreshToken = mintRefreshToken()
  const session = await createSession(runtime.database.db, {
    userId: user.id,
    refreshTokenHash: hashRefreshToken(refreshToken),
    idleTtlSeconds: runtime.options.refreshIdleTtl,
    maxAgeSeconds: runtime.options.sessionMaxAge,
    userAgent: client.userAgent,
    ip: client.ip,
    amr,
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
  await runtime.audit({
    type: method === 'register' ? 'user.registered' : 'login.succeeded',
    userId: user.id,
    sessionId: session.id,
    ...client,
    ...(method === 'code' || method === 'passkey' ? { details: { method } } : {}),
  })
  const issued = await issue(runtime, session, refreshToken)
  rememberSession(runtime, { user, session }, Math.floor(runtime.clock() / 1000))
  const { afterSignIn } = runtime.options.hooks
  if (afterSignIn) {
    afterTheFact(runtime, 'afterSignIn', () => afterSignIn({ user, session, method, client }))
  }
  return { user, ...issued }
}

/**
 * `auth.register`: counts the attempt per address, checks the password rule,
 * then creates the user in one transaction with the team's
 * `beforeCreateUser`/`afterCreateUser` hooks (a throw from either leaves no
 * user), and signs in.
 */
export async function register(
  runtime: Runtime,
  input: Registration,
  client: ClientInfo,
): Promise<SignedIn> {
  await limitAttemptsFromIp(runtime, client.ip)
  const password = acceptPassword(input.password)
  const passwordHash = await hashing(() => runtime.passwords.hash(password))
  const { beforeCreateUser, afterCreateUser } = runtime.options.hooks
  let user: User
  try {
    user = await inTransaction(runtime.database.db, async (trx) => {
      const team = teamTransaction(trx)
      let fields = input.fields
      const displayName = input.displayName ?? null
      if (beforeCreateUser) {
        const changed = await teamHook(() =>
          beforeCreateUser(
            { email: input.email, displayName, fields },
            { transaction: team, client },
          ),
        )
        if (changed?.fields !== undefined) fields = changed.fields
      }
      const created = await createUser(trx, {
        email: input.email,
        passwordHash,
        displayName,
        fields,
        now: runtime.now(),
      })
      if (afterCreateUser)
        await teamHook(() => afterCreateUser(created, { transaction: team, client }))
      return created
    })
  } catch (error) {
    if (error instanceof DatabaseError && error.code === 'EMAIL_TAKEN')
      throw new BreakwaterError('EMAIL_TAKEN')
    if (error instanceof HookRefusal) {
      runtime.log.warn({ err: error.cause }, 'a registration hook refused a registration')
      throw new BreakwaterError('REGISTRATION_REJECTED')
    }
    throw error
  }
  return openSession(runtime, user, client, 'register')
}

/**
 * `auth.login`: the guarded password check, then a new session, or a login
 * challenge when the user has a second factor (SPEC §10): asked only after a
 * right password, so a wrong one never tells whether there is one.
 */
export async function login(
  runtime: Runtime,
  input: { email: string; password: string },
  client: ClientInfo,
): Promise<SignedIn | SecondFactorRequired> {
  const found = await findUserByEmail(runtime.database.db, input.email)
  const user = await checkPassword(runtime, {
    email: input.email,
    user: found,
    password: input.password,
    client,
  })
  // After the password check, so the answer tells only the account's owner.
  if (runtime.options.requireEmailVerification && user.emailVerifiedAt === null)
    throw new BreakwaterError('EMAIL_NOT_VERIFIED')
  if (needsSecondFactor(user)) return openChallenge(runtime, user, client, ['pwd'])
  return openSession(runtime, user, client, 'password')
}
