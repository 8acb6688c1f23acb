import { rotateRefreshToken, type Session } from '@breakwater/db'
import {
  hashRefreshToken,
  isRefreshTokenShape,
  mintRefreshToken,
  openSuccessor,
  sealSuccessor,
} from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { addressBucket, type ClientInfo } from './client.js'
import { sessionsEnded } from './end.js'
import { type IssuedSession, issue } from './tokens.js'

/** Whether a grace-window replay comes from somewhere other than the session's own client. */
function isForeign(session: Session, client: ClientInfo): boolean {
  const sameAddress = session.ip === null || addressBucket(session.ip) === addressBucket(client.ip)
  return !sameAddress || session.userAgent !== client.userAgent
}

/**
 * `auth.refresh` (SPEC §4 rotation rules 1–3), transport-neutral: the caller
 * hands over the presented refresh token and delivers the result. Every
 * failure is a `BreakwaterError` whose reason tells the client its next move.
 */
export async function refresh(
  runtime: Runtime,
  presented: string,
  client: ClientInfo,
): Promise<IssuedSession> {
  if (!isRefreshTokenShape(presented)) throw new BreakwaterError('REFRESH_INVALID')
  const presentedHash = hashRefreshToken(presented)
  const successor = mintRefreshToken()
  const result = await rotateRefreshToken(runtime.database.db, {
    presentedHash,
    newTokenHash: hashRefreshToken(successor),
    sealedSuccessor: sealSuccessor(presented, successor),
    graceSeconds: runtime.options.refreshReuseGrace,
    idleTtlSeconds: runtime.options.refreshIdleTtl,
    // Counted by the rotating statement itself, so a loop of refreshes cannot
    // grow a session's chain and audit rows without bound.
    limit: runtime.options.refreshLimit,
    now: runtime.now(),
  })
  switch (result.kind) {
    case 'rotated': {
      // Recorded while the access token is signed: neither waits for the other.
      const [issued] = await Promise.all([
        issue(runtime, result.session, successor),
        runtime.audit({
          type: 'refresh.rotated',
          userId: result.session.userId,
          sessionId: result.session.id,
          ...client,
        }),
      ])
      return issued
    }
    case 'limited':
      throw new BreakwaterError('RATE_LIMITED', { retryAfter: result.retryAfterSeconds })
    case 'grace': {
      // The same successor the first presentation got: the chain never forks (SPEC §4.1).
      const sameSuccessor = openSuccessor(presented, result.sealedSuccessor)
      if (!sameSuccessor) throw new BreakwaterError('REFRESH_INVALID')
      const foreign = isForeign(result.session, client)
      await runtime.audit({
        type: 'refresh.grace',
        userId: result.session.userId,
        sessionId: result.session.id,
        ...client,
        // A replay from another client inside the window is how a copied
        // token would look; it still succeeds (a lost response looks the
        // same from a roaming phone) but stands out in the trail.
        ...(foreign ? { details: { foreignClient: true } } : {}),
      })
      return issue(runtime, result.session, sameSuccessor)
    }
    case 'reused':
      await sessionsEnded(
        runtime,
        { sessionIds: [result.sessionId], revokedAt: runtime.now() },
        { userId: result.userId, reason: 'reuse', client },
      )
      throw new BreakwaterError('REFRESH_REUSED')
    case 'revoked':
      throw new BreakwaterError('SESSION_REVOKED')
    case 'expired':
      throw new BreakwaterError('SESSION_EXPIRED')
    default:
      throw new BreakwaterError('REFRESH_INVALID')
  }
}
