import type { Executor } from '../executor.js'
import type { AuditEventRow } from '../tables/audit-event.table.js'
import { clip, instant, isUuid } from '../values.js'
import { IP_MAX, USER_AGENT_MAX } from './sessions.js'

/** Audit event types the server emits (SPEC §7); any other short string is accepted. */
export type AuditEventType =
  | 'user.registered'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.rate_limited'
  | 'refresh.rotated'
  | 'refresh.grace'
  | 'refresh.reused'
  | 'session.revoked'
  | 'password.changed'
  | 'keys.rotated'
  | (string & {})

/** One stored audit event. */
export interface AuditEvent {
  readonly id: string
  readonly occurredAt: Date
  readonly type: string
  readonly userId: string | null
  readonly sessionId: string | null
  readonly ip: string | null
  readonly userAgent: string | null
  readonly details: Record<string, unknown> | null
}

/** Input of {@link appendAuditEvent}. Never put tokens, passwords or cookies in `details`. */
export interface NewAuditEvent {
  readonly type: AuditEventType
  readonly userId?: string | null
  readonly sessionId?: string | null
  readonly ip?: string | null
  readonly userAgent?: string | null
  readonly details?: Record<string, unknown> | null
  readonly occurredAt?: Date
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    type: row.type,
    userId: row.user_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  }
}

// Ids that are not UUIDs (a probe for someone else's session id, say) are recorded as
// absent rather than failing the write: an audit append must never break a request.
const idOrNull = (id: string | null | undefined) => (id && isUuid(id) ? id : null)

/** Appends one audit event. */
export async function appendAuditEvent(db: Executor, input: NewAuditEvent): Promise<AuditEvent> {
  const row = await db
    .insertInto('auth_events')
    .values({
      id: crypto.randomUUID(),
      occurred_at: instant(input.occurredAt),
      type: input.type,
      user_id: idOrNull(input.userId),
      session_id: idOrNull(input.sessionId),
      ip: clip(input.ip, IP_MAX),
      user_agent: clip(input.userAgent, USER_AGENT_MAX),
      details: input.details ? JSON.stringify(input.details) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toAuditEvent(row)
}

/** Filters of {@link listAuditEvents}. */
export interface AuditQuery {
  readonly userId?: string
  readonly sessionId?: string
  readonly type?: string
  /** Only events strictly before this instant (for paging). */
  readonly before?: Date
  /** Default 100, at most 1000. */
  readonly limit?: number
}

/** Audit events, newest first. */
export async function listAuditEvents(db: Executor, query: AuditQuery = {}): Promise<AuditEvent[]> {
  if (query.userId !== undefined && !isUuid(query.userId)) return []
  if (query.sessionId !== undefined && !isUuid(query.sessionId)) return []
  let q = db.selectFrom('auth_events').selectAll()
  if (query.userId !== undefined) q = q.where('user_id', '=', query.userId)
  if (query.sessionId !== undefined) q = q.where('session_id', '=', query.sessionId)
  if (query.type !== undefined) q = q.where('type', '=', query.type)
  if (query.before !== undefined) q = q.where('occurred_at', '<', query.before)
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000)
  const rows = await q.orderBy('occurred_at', 'desc').orderBy('id').limit(limit).execute()
  return rows.map(toAuditEvent)
}

/** Input of {@link pruneAuditEvents}. */
export interface PruneAuditEvents {
  /** Events that occurred strictly before this instant are deleted: now − retention. */
  readonly before: Date
}

/**
 * Deletes audit events older than the retention (SPEC §4: `AUDIT_RETENTION`, default
 * 90 days, pruned on a schedule). One `DELETE` through the `occurred_at` index; the
 * trail has no foreign keys, so nothing else is touched.
 *
 * @example
 * ```ts
 * await pruneAuditEvents(db, { before: new Date(Date.now() - 90 * 86_400_000) })
 * ```
 *
 * @returns how many events were deleted.
 */
export async function pruneAuditEvents(db: Executor, input: PruneAuditEvents): Promise<number> {
  if (!(input.before instanceof Date) || Number.isNaN(input.before.getTime())) {
    throw new TypeError('@breakwater/db: before must be a valid Date')
  }
  const result = await db
    .deleteFrom('auth_events')
    .where('occurred_at', '<', input.before)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
