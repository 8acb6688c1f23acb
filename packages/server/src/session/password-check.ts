import { findUserById, type User } from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { HashQueueFull } from '../guard/password.js'
import { normalizePassword } from '../guard/password-policy.js'
import {
  limitAttemptsFromIp,
  refundAccountAttempt,
  takeAccountAttempt,
} from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'

/** Runs password work, turning a full hashing queue into `RATE_LIMITED`. */
export async function hashing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof HashQueueFull) throw new BreakwaterError('RATE_LIMITED', { retryAfter: 1 })
    throw error
  }
}

/**
 * The one password check (login, changePassword, and every later procedure
 * that asks for one). SPEC §6: the attempt is counted against the client
 * address and the account *before* the password is checked, atomically, so a
 * burst of N guesses checks at most the limit; a success gives its account
 * attempt back. An unknown account costs the time of a real check and
 * answers the same `INVALID_CREDENTIALS`.
 */
export async function checkPassword(
  runtime: Runtime,
  input: {
    email: string
    user: User | undefined
    password: string
    client: ClientInfo
    sessionId?: string
    during?: string
  },
): Promise<User> {
  const { client, user } = input
  const audit = (type: 'login.rate_limited' | 'login.failed') =>
    runtime.audit({
      type,
      userId: user?.id ?? null,
      sessionId: input.sessionId ?? null,
      ...client,
      ...(input.during ? { details: { during: input.during } } : {}),
    })
  await limitAttemptsFromIp(runtime, client.ip)
  try {
    await takeAccountAttempt(runtime, input.email)
  } catch (error) {
    await audit('login.rate_limited')
    throw error
  }
  const password = normalizePassword(input.password)
  const genuine = await hashing(async () => {
    if (user) return runtime.passwords.verify(user.passwordHash, password)
    await runtime.passwords.verifyDummy(password)
    return false
  })
  if (!user || !genuine) {
    await audit('login.failed')
    throw new BreakwaterError('INVALID_CREDENTIALS')
  }
  await refundAccountAttempt(runtime, input.email)
  return user
}

/**
 * The signed-in user's current password, for the procedures that ask for it
 * again (changePassword, requestEmailChange, deleteAccount): the same guarded
 * check as a login, audited as happening `during` that procedure.
 */
export async function checkCurrentPassword(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  password: string,
  client: ClientInfo,
  during: string,
): Promise<User> {
  const found = await findUserById(runtime.database.db, caller.userId)
  if (!found) throw new BreakwaterError('SESSION_REVOKED')
  return checkPassword(runtime, {
    email: found.email,
    user: found,
    password,
    client,
    sessionId: caller.sessionId,
    during,
  })
}
