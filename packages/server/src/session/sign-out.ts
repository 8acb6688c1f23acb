import { findSessionByRefreshHash, revokeSession, revokeUserSessions } from '@breakwater/db'
import { hashRefreshToken, isRefreshTokenShape, TokenError } from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { sessionsEnded } from './end.js'

/**
 * `auth.logout`: ends the session an access token (even an expired one: its
 * signature, issuer and audience still count, SPEC §5) or a refresh token
 * names. With neither it does nothing.
 */
export async function logout(
  runtime: Runtime,
  presented: { accessToken?: string | undefined; refreshToken?: string | undefined },
  client: ClientInfo,
): Promise<void> {
  let owner: { sessionId: string; userId: string } | undefined
  if (presented.accessToken !== undefined) {
    try {
      const claims = runtime.verifier.verify(presented.accessToken, { allowExpired: true })
      owner = { sessionId: claims.sid, userId: claims.sub }
    } catch (error) {
      if (error instanceof TokenError) throw new BreakwaterError('TOKEN_INVALID')
      throw error
    }
  } else if (presented.refreshToken !== undefined) {
    if (!isRefreshTokenShape(presented.refreshToken)) throw new BreakwaterError('REFRESH_INVALID')
    const session = await findSessionByRefreshHash(
      runtime.database.db,
      hashRefreshToken(presented.refreshToken),
    )
    if (!session) throw new BreakwaterError('REFRESH_INVALID')
    owner = { sessionId: session.id, userId: session.userId }
  }
  if (!owner) return
  const revoked = await revokeSession(runtime.database.db, {
    sessionId: owner.sessionId,
    reason: 'logout',
    now: runtime.now(),
  })
  await sessionsEnded(runtime, revoked, { userId: owner.userId, reason: 'logout', client })
}

/** `auth.logoutAll`: every session of the user, or every one but the caller's. */
export async function logoutAll(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  keepCurrent: boolean,
  client: ClientInfo,
): Promise<number> {
  const revoked = await revokeUserSessions(runtime.database.db, {
    userId: caller.userId,
    reason: 'logout_all',
    now: runtime.now(),
    ...(keepCurrent ? { exceptSessionId: caller.sessionId } : {}),
  })
  await sessionsEnded(runtime, revoked, { userId: caller.userId, reason: 'logout_all', client })
  return revoked.count
}

/**
 * `sessions.revoke`: scoped to the caller's own sessions, so another user's
 * id gets the same answer as an id that does not exist (ids cannot be probed).
 */
export async function revokeOwnSession(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  sessionId: string,
  client: ClientInfo,
): Promise<void> {
  const revoked = await revokeSession(runtime.database.db, {
    sessionId,
    userId: caller.userId,
    reason: 'user_revoked',
    now: runtime.now(),
  })
  if (revoked.count === 0) throw new BreakwaterError('SESSION_NOT_FOUND')
  await sessionsEnded(runtime, revoked, {
    userId: caller.userId,
    reason: 'user_revoked',
    client,
    details: { by: caller.sessionId },
  })
}
