import {
  findSessionById,
  findUserById,
  isUnavailableError,
  type Session,
  sessionState,
  type User,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import type { AuthenticatedSession } from '../guard/authenticate.js'
import type { Runtime } from '../runtime.js'

/**
 * A user and session row as this instance last saw them, good for access
 * tokens issued no later than `validFor` (seconds since the epoch).
 */
export interface SeenSession {
  readonly user: User
  readonly session: Session
  readonly validFor: number
}

/**
 * Remembers the rows a session was issued or read with. A token issued
 * after the rows were read (a refresh on any instance moves the idle expiry)
 * misses and reads again; a revocation, from this instance or the database's
 * feed, drops the entry. One read per access token and instance at most.
 */
export function rememberSession(
  runtime: Runtime,
  rows: { user: User; session: Session },
  validFor: number,
): void {
  runtime.recentSessions.set(rows.session.id, { ...rows, validFor })
}

/**
 * The user and session behind a verified access token (`auth.me`, a guard
 * that needs the user): from memory when this instance has seen them since
 * the token was issued, else from the database. With storage down, the last
 * rows seen answer: the token was verified and its session is not revoked as
 * far as this instance knows.
 */
export async function currentSession(
  runtime: Runtime,
  caller: AuthenticatedSession,
): Promise<{ user: User; session: Session }> {
  const seen = runtime.recentSessions.get(caller.sessionId)
  if (seen !== undefined && caller.claims.iat <= seen.validFor && seen.user.id === caller.userId)
    return seen
  let user: User | undefined
  let stored: Session | undefined
  const readAt = runtime.clock()
  try {
    ;[user, stored] = await Promise.all([
      findUserById(runtime.database.db, caller.userId),
      findSessionById(runtime.database.db, caller.sessionId),
    ])
  } catch (error) {
    if (seen === undefined || !isUnavailableError(error)) throw error
    return seen
  }
  if (!user || !stored || stored.userId !== user.id) throw new BreakwaterError('SESSION_REVOKED')
  const state = sessionState(stored, runtime.now())
  if (state === 'revoked') {
    runtime.revocations.add(stored.id, stored.revokedAt ?? runtime.now())
    throw new BreakwaterError('SESSION_REVOKED')
  }
  if (state === 'expired') throw new BreakwaterError('SESSION_EXPIRED')
  // A token issued in the second of the read may come from a refresh that
  // committed just after it: only earlier seconds are covered.
  rememberSession(runtime, { user, session: stored }, Math.floor(readAt / 1000) - 1)
  return { user, session: stored }
}

/**
 * Forgets what this instance saw of a user's sessions, after a change to the
 * user row (a verified address). Other instances see it with the next access
 * token (at most `accessTokenTtl` later).
 */
export function forgetUser(runtime: Runtime, userId: string): void {
  for (const [sessionId, seen] of runtime.recentSessions) {
    if (seen.user.id === userId) runtime.recentSessions.delete(sessionId)
  }
}
