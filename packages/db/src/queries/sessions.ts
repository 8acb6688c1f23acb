import type { Executor } from '../executor.js'
import type { SessionRow } from '../tables/session.table.js'
import { addSeconds, clip, instant, isStorableText, isUuid, requireNumber } from '../values.js'
import { type RevocationReason, type RevokeResult, revokeWhere } from './revocations.js'

/** Longest stored user agent, in code points; longer ones are cut, never rejected. */
export const USER_AGENT_MAX = 512
/** Longest stored IP text (IPv6 with a zone fits), in code points. */
export const IP_MAX = 64

/** A session as the server sees it. Token hashes stay inside this package. */
export interface Session {
  readonly id: string
  readonly userId: string
  readonly createdAt: Date
  readonly lastUsedAt: Date
  readonly idleExpiresAt: Date
  readonly expiresAt: Date
  readonly revokedAt: Date | null
  readonly revokedReason: string | null
  readonly userAgent: string | null
  readonly ip: string | null
  /** When the user last proved a factor in this session (SPEC §10: `auth_time`). */
  readonly authTime: Date
  /** How (RFC 8176 `amr`): `['pwd']`, `['pwd', 'otp']`, `['hwk']`… */
  readonly amr: readonly string[]
}

/** The session columns {@link toSession} reads. */
export const SESSION_COLUMNS = [
  'id',
  'user_id',
  'created_at',
  'last_used_at',
  'idle_expires_at',
  'expires_at',
  'revoked_at',
  'revoked_reason',
  'user_agent',
  'ip',
  'auth_time',
  'amr',
] as const

type SessionFields = Pick<SessionRow, (typeof SESSION_COLUMNS)[number]>

/** Maps a `sessions` row to a {@link Session}. */
export function toSession(row: SessionFields): Session {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    userAgent: row.user_agent,
    ip: row.ip,
    // Sessions from before SPEC §10 were opened with a password, when they were created.
    authTime: row.auth_time ?? row.created_at,
    amr: row.amr ?? ['pwd'],
  }
}

/** Whether a session is usable at `now`: not revoked, neither expiry reached. */
export function sessionState(
  session: Session,
  now: Date = new Date(),
): 'live' | 'revoked' | 'expired' {
  if (session.revokedAt !== null) return 'revoked'
  if (session.idleExpiresAt <= now || session.expiresAt <= now) return 'expired'
  return 'live'
}

/** Input of {@link createSession}. */
export interface NewSession {
  /** Defaults to `crypto.randomUUID()`. */
  readonly id?: string
  readonly userId: string
  /** Hash of the first refresh token (the plaintext never reaches this package). */
  readonly refreshTokenHash: string
  /** Idle timeout (SPEC §4 default 7 days); each rotation extends it by this much. */
  readonly idleTtlSeconds: number
  /** Absolute lifetime (SPEC §4 default 30 days). */
  readonly maxAgeSeconds: number
  readonly userAgent?: string | null
  readonly ip?: string | null
  /** RFC 8176 methods the user signed in with. Default `['pwd']`. */
  readonly amr?: readonly string[]
  readonly now?: Date
}

/**
 * Creates a session and registers its first refresh token, in one statement (two
 * data-modifying CTEs), so there is never a session without a token or the reverse.
 */
export async function createSession(db: Executor, input: NewSession): Promise<Session> {
  requireNumber('idleTtlSeconds', input.idleTtlSeconds, 1)
  requireNumber('maxAgeSeconds', input.maxAgeSeconds, 1)
  const now = instant(input.now)
  const expiresAt = addSeconds(now, input.maxAgeSeconds)
  const idle = addSeconds(now, input.idleTtlSeconds)
  const row = await db
    .with('created', (qb) =>
      qb
        .insertInto('sessions')
        .values({
          id: input.id ?? crypto.randomUUID(),
          user_id: input.userId,
          created_at: now,
          last_used_at: now,
          idle_expires_at: new Date(Math.min(idle.getTime(), expiresAt.getTime())),
          expires_at: expiresAt,
          user_agent: clip(input.userAgent, USER_AGENT_MAX),
          ip: clip(input.ip, IP_MAX),
          current_token_hash: input.refreshTokenHash,
          auth_time: now,
          amr: JSON.stringify(input.amr ?? ['pwd']),
        })
        .returning(SESSION_COLUMNS),
    )
    .with('first_token', (qb) =>
      qb
        .insertInto('refresh_tokens')
        .columns(['token_hash', 'session_id', 'issued_at'])
        .expression((eb) =>
          eb
            .selectFrom('created')
            .select((eb) => [
              eb.val(input.refreshTokenHash).as('token_hash'),
              'created.id',
              eb.val(now).as('issued_at'),
            ]),
        ),
    )
    .selectFrom('created')
    .selectAll()
    .executeTakeFirstOrThrow()
  return toSession(row)
}

/**
 * Records a fresh proof of a factor in a live session (step-up, SPEC §10): `auth_time`
 * becomes `now` and `amr` the methods of this proof. Returns the session, or
 * `undefined` when it is not live.
 */
export async function renewSessionAuthTime(
  db: Executor,
  input: { sessionId: string; amr: readonly string[]; now?: Date },
): Promise<Session | undefined> {
  if (!isUuid(input.sessionId)) return undefined
  const now = instant(input.now)
  const row = await db
    .updateTable('sessions')
    .set({ auth_time: now, amr: JSON.stringify(input.amr) })
    .where('id', '=', input.sessionId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('expires_at', '>', now)
    .returning(SESSION_COLUMNS)
    .executeTakeFirst()
  return row && toSession(row)
}

/**
 * Finds the session a refresh token belongs to, by the token's hash: the
 * current token or any older one of its chain (any state). For signing out
 * with a refresh token alone.
 */
export async function findSessionByRefreshHash(
  db: Executor,
  tokenHash: string,
): Promise<Session | undefined> {
  if (!isStorableText(tokenHash) || tokenHash.length > 128) return undefined
  const row = await db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .select(SESSION_COLUMNS.map((column) => `sessions.${column}` as const))
    .where('refresh_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst()
  return row && toSession(row)
}

/** Finds a session by id (any state); a non-UUID id finds nothing. */
export async function findSessionById(db: Executor, id: string): Promise<Session | undefined> {
  if (!isUuid(id)) return undefined
  const row = await db
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toSession(row)
}

/** A user's live sessions (not revoked, not expired at `now`), most recently used first. */
export async function listLiveSessions(
  db: Executor,
  userId: string,
  now?: Date,
): Promise<Session[]> {
  if (!isUuid(userId)) return []
  const at = instant(now)
  const rows = await db
    .selectFrom('sessions')
    .select(SESSION_COLUMNS)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', at)
    .where('expires_at', '>', at)
    .orderBy('last_used_at', 'desc')
    .orderBy('id')
    .execute()
  return rows.map(toSession)
}

/** Input of {@link touchSession}. */
export interface TouchSession {
  readonly sessionId: string
  readonly now?: Date
  /**
   * Skip the write when `last_used_at` is younger than this: a busy session then costs
   * one write per interval instead of one per request. Default 0 (always write).
   */
  readonly minIntervalSeconds?: number
}

/**
 * Records use of a live session. Does not extend the idle expiry (only a refresh does).
 *
 * @returns whether a row was written.
 */
export async function touchSession(db: Executor, input: TouchSession): Promise<boolean> {
  if (!isUuid(input.sessionId)) return false
  const now = instant(input.now)
  let query = db
    .updateTable('sessions')
    .set({ last_used_at: now })
    .where('id', '=', input.sessionId)
    .where('revoked_at', 'is', null)
  if (input.minIntervalSeconds) {
    query = query.where('last_used_at', '<=', addSeconds(now, -input.minIntervalSeconds))
  }
  const result = await query.executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Input of {@link revokeSession}. */
export interface RevokeSession {
  readonly sessionId: string
  /**
   * When given, only a session of this user is revoked: `sessions.revoke` then answers
   * the same for someone else's session as for a missing one (SPEC §3).
   */
  readonly userId?: string
  readonly reason: RevocationReason
  readonly now?: Date
}

/**
 * Revokes one session and broadcasts it. Revoking an already-revoked session is a no-op
 * that returns `count: 0`.
 */
export async function revokeSession(db: Executor, input: RevokeSession): Promise<RevokeResult> {
  const now = instant(input.now)
  if (!isUuid(input.sessionId) || (input.userId !== undefined && !isUuid(input.userId))) {
    return { count: 0, sessionIds: [], revokedAt: now }
  }
  return revokeWhere(
    db,
    (eb) =>
      input.userId === undefined
        ? eb('id', '=', input.sessionId)
        : eb.and([eb('id', '=', input.sessionId), eb('user_id', '=', input.userId)]),
    input.reason,
    now,
  )
}

/** Input of {@link revokeUserSessions}. */
export interface RevokeUserSessions {
  readonly userId: string
  /** Keep this one (`logoutAll({keepCurrent})`, `changePassword`). */
  readonly exceptSessionId?: string
  readonly reason: RevocationReason
  readonly now?: Date
}

/** Revokes every session of a user (but one, optionally) and broadcasts each. */
export async function revokeUserSessions(
  db: Executor,
  input: RevokeUserSessions,
): Promise<RevokeResult> {
  const now = instant(input.now)
  if (!isUuid(input.userId)) return { count: 0, sessionIds: [], revokedAt: now }
  const except = input.exceptSessionId
  return revokeWhere(
    db,
    (eb) =>
      except !== undefined && isUuid(except)
        ? eb.and([eb('user_id', '=', input.userId), eb('id', '<>', except)])
        : eb('user_id', '=', input.userId),
    input.reason,
    now,
  )
}

/**
 * Deletes sessions that ended before `before` (revoked or expired), with their token
 * chains (`refresh_tokens` rows go with them: `ON DELETE CASCADE`). Run it now and then;
 * a token of a deleted session then reads `not_found` instead of `revoked`.
 *
 * @returns how many sessions were deleted.
 */
export async function deleteEndedSessions(db: Executor, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('revoked_at', '<', before),
        eb('expires_at', '<', before),
        eb('idle_expires_at', '<', before),
      ]),
    )
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
