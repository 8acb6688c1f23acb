import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely'
import type { Executor } from '../executor.js'
import type { BreakwaterSchema } from '../schema.js'

/** The LISTEN/NOTIFY channel revocations are announced on. */
export const REVOCATION_CHANNEL = 'breakwater_revocations'

/** Why a session ended. Stored in `sessions.revoked_reason`. */
export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'user_revoked'
  | 'password_changed'
  | 'reuse'
  | 'admin'
  | (string & {})

/** One revoked session, as broadcast and as loaded at start-up. */
export interface RevocationEvent {
  readonly sessionId: string
  readonly userId: string
  readonly revokedAt: Date
  readonly reason: string | null
}

/** What a revoke query did. */
export interface RevokeResult {
  /** How many sessions this call revoked (already-revoked ones are not counted). */
  readonly count: number
  readonly sessionIds: readonly string[]
  readonly revokedAt: Date
}

type SessionWhere = (eb: ExpressionBuilder<BreakwaterSchema, 'sessions'>) => Expression<SqlBool>

/**
 * Revokes the sessions `where` selects (and that are not revoked yet) and announces each
 * on {@link REVOCATION_CHANNEL}, in one statement: the notification is sent if and only
 * if the revocation commits, so no listener ever hears of a revocation that rolled back.
 * Internal building block of the revoke queries.
 */
export async function revokeWhere(
  db: Executor,
  where: SessionWhere,
  reason: RevocationReason,
  now: Date,
): Promise<RevokeResult> {
  const rows = await db
    .with('revoked', (qb) =>
      qb
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason, successor_sealed: null })
        .where((eb) => eb.and([eb('revoked_at', 'is', null), where(eb)]))
        .returning(['id', 'user_id', 'revoked_at', 'revoked_reason']),
    )
    .selectFrom('revoked')
    .select((eb) => [
      'revoked.id',
      // Milliseconds since the epoch: exact and independent of the session time zone.
      sql<string>`pg_notify(${REVOCATION_CHANNEL}, json_build_object(
        's', ${eb.ref('revoked.id')},
        'u', ${eb.ref('revoked.user_id')},
        't', (extract(epoch from ${eb.ref('revoked.revoked_at')}) * 1000)::bigint,
        'r', ${eb.ref('revoked.revoked_reason')}
      )::text)`.as('notified'),
    ])
    .execute()
  return { count: rows.length, sessionIds: rows.map((r) => r.id), revokedAt: now }
}

/**
 * Sessions revoked at or after `since`, oldest first: what a server loads at start-up
 * (since = now − access-token lifetime) to refuse access tokens of sessions that ended
 * while it was down. Uses the partial index on `revoked_at`.
 */
export async function loadRecentRevocations(db: Executor, since: Date): Promise<RevocationEvent[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'revoked_at', 'revoked_reason'])
    .where('revoked_at', 'is not', null)
    .where('revoked_at', '>=', since)
    .orderBy('revoked_at')
    .execute()
  return rows.map((r) => ({
    sessionId: r.id,
    userId: r.user_id,
    revokedAt: r.revoked_at as Date,
    reason: r.revoked_reason,
  }))
}

/**
 * Parses a notification payload written by {@link revokeWhere}. Returns `undefined` for
 * anything else, since any role allowed to connect can `NOTIFY` on the channel.
 */
export function parseRevocationPayload(payload: string | undefined): RevocationEvent | undefined {
  if (!payload) return undefined
  try {
    const data = JSON.parse(payload) as { s?: unknown; u?: unknown; t?: unknown; r?: unknown }
    if (typeof data.s !== 'string' || typeof data.u !== 'string' || typeof data.t !== 'number') {
      return undefined
    }
    return {
      sessionId: data.s,
      userId: data.u,
      revokedAt: new Date(data.t),
      reason: typeof data.r === 'string' ? data.r : null,
    }
  } catch {
    return undefined
  }
}
