import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely'
import type { Executor } from '../executor.js'
import type { BreakwaterSchema } from '../schema.js'
import { DEFAULT_SCHEMA, schemaOf } from '../schema-plugin.js'

/**
 * The LISTEN/NOTIFY channel of the default schema (`breakwater`); see
 * {@link revocationChannel}.
 */
export const REVOCATION_CHANNEL = 'breakwater_revocations'

// PostgreSQL refuses (pg_notify) or truncates (LISTEN) channel names over 63 bytes.
const CHANNEL_MAX = 63
const SUFFIX = '_revocations'

/**
 * The channel revocations in `schema` are announced on: `<schema>_revocations`, so two
 * Breakwater schemas in one database never hear each other's (notifications are
 * per database, not per schema). A schema name too long for that keeps a prefix plus a
 * hash of the whole name.
 */
export function revocationChannel(schema: string = DEFAULT_SCHEMA): string {
  const plain = `${schema}${SUFFIX}`
  if (plain.length <= CHANNEL_MAX) return plain
  // FNV-1a (32 bit): stable, dependency-free, and only has to tell schemas apart.
  let hash = 0x811c9dc5
  for (let i = 0; i < schema.length; i++) {
    hash = Math.imul(hash ^ schema.charCodeAt(i), 0x01000193) >>> 0
  }
  const tag = `_${hash.toString(16).padStart(8, '0')}`
  return `${schema.slice(0, CHANNEL_MAX - tag.length - SUFFIX.length)}${tag}${SUFFIX}`
}

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
 * on the schema's {@link revocationChannel}, in one statement: the notification is sent if and only
 * if the revocation commits, so no listener ever hears of a revocation that rolled back.
 * Internal building block of the revoke queries.
 */
export async function revokeWhere(
  db: Executor,
  where: SessionWhere,
  reason: RevocationReason,
  now: Date,
): Promise<RevokeResult> {
  const channel = revocationChannel(schemaOf(db))
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
      sql<string>`pg_notify(${channel}, json_build_object(
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
