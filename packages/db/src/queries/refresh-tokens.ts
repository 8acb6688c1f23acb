import { sql } from 'kysely'
import type { Executor } from '../executor.js'
import { tableOf } from '../schema-plugin.js'
import { prepare } from '../statement.js'
import { addSeconds, instant, requireNumber } from '../values.js'
import { revokeWhere } from './revocations.js'
import { SESSION_COLUMNS, type Session, toSession } from './sessions.js'

/** Input of {@link rotateRefreshToken}. */
export interface RotateInput {
  /** Hash of the refresh token the client presented. */
  readonly presentedHash: string
  /** Hash of the successor the server minted for this call. */
  readonly newTokenHash: string
  /**
   * The successor itself, sealed by the server under a key derived from the presented
   * token (`@breakwater/tokens`). Stored so that a replay of the presented token within
   * the grace window gets this same successor back; unreadable without that token.
   */
  readonly sealedSuccessor: string
  /** SPEC §4 `REFRESH_REUSE_GRACE` (default 10 s). */
  readonly graceSeconds: number
  /** SPEC §4 idle timeout; a rotation moves the idle expiry to now + this (capped). */
  readonly idleTtlSeconds: number
  /**
   * At most `max` rotations of one session per sliding `windowSeconds` (SPEC §4: refresh
   * is rate limited per session), counted from the session's own chain rows inside the
   * rotating statement: no extra query on the happy path, and exact under concurrency
   * because the row lock serialises a session's rotations. Past it: `limited`. Grace
   * replays rotate nothing and are never limited.
   */
  readonly limit?: { readonly max: number; readonly windowSeconds: number }
  readonly now?: Date
}

/**
 * Outcome of a rotation, decided by the database under the session row's lock:
 * - `rotated`: the presented token was current; the successor is now current.
 * - `grace`: the presented token was just replaced (within the grace window); answer
 *   with `sealedSuccessor`, the successor stored by that rotation (the chain never forks).
 * - `reused`: an older token of the chain, or the previous one after the window (or once
 *   {@link eraseExpiredSuccessors} erased its successor); the session is now revoked
 *   (reason `reuse`) and the revocation broadcast.
 * - `revoked` / `expired`: the session already ended (checked before reuse).
 * - `limited`: the token is current, but the session rotated `limit.max` times within
 *   the window; nothing changed.
 * - `not_found`: no session ever issued this token, or it was pruned from the chain
 *   ({@link pruneRefreshChains}) or deleted with its ended session.
 */
export type RotateResult =
  | { readonly kind: 'rotated'; readonly session: Session }
  | { readonly kind: 'grace'; readonly session: Session; readonly sealedSuccessor: string }
  | { readonly kind: 'reused'; readonly sessionId: string; readonly userId: string }
  | { readonly kind: 'revoked'; readonly sessionId: string; readonly userId: string }
  | { readonly kind: 'expired'; readonly sessionId: string; readonly userId: string }
  | {
      readonly kind: 'limited'
      readonly sessionId: string
      readonly userId: string
      /** Whole seconds until one more rotation fits in the window. */
      readonly retryAfterSeconds: number
    }
  | { readonly kind: 'not_found' }

// The happy path, built with the typed builder and compiled once (see statement.ts):
// take the row whose current token was presented, if the session is usable, make the
// successor current, and append it to the chain.
// Rotations of a session inside the window: its chain rows issued after the window
// start, not counting the first token (issued with the session, at `created_at`).
const recentRotations = (db: Executor, windowStart: unknown) =>
  sql<number>`(select count(*) from ${tableOf(db, 'refresh_tokens')} as recent
    where recent.session_id = sessions.id
    and recent.issued_at > greatest(${windowStart}::timestamptz, sessions.created_at))`

function rotateStatement(limited: boolean) {
  return prepare(
    ['presentedHash', 'newTokenHash', 'sealedSuccessor', 'now', 'idleUntil', 'windowStart', 'max'],
    (db, p) =>
      db
        .with('rotated', (qb) => {
          const update = qb
            .updateTable('sessions')
            .set((eb) => ({
              previous_token_hash: eb.ref('current_token_hash'),
              current_token_hash: p('newTokenHash'),
              rotated_at: p('now'),
              successor_sealed: p('sealedSuccessor'),
              last_used_at: p('now'),
              idle_expires_at: sql<Date>`least(${p('idleUntil')}::timestamptz, ${eb.ref('expires_at')})`,
            }))
            .where('current_token_hash', '=', p<string>('presentedHash'))
            .where('revoked_at', 'is', null)
            .where('idle_expires_at', '>', p<Date>('now'))
            .where('expires_at', '>', p<Date>('now'))
          return (
            limited
              ? update.where(
                  recentRotations(db, p('windowStart')),
                  '<',
                  sql<number>`${p('max')}::int`,
                )
              : update
          ).returning(SESSION_COLUMNS)
        })
        .with('chained', (qb) =>
          qb
            .insertInto('refresh_tokens')
            .columns(['token_hash', 'session_id', 'issued_at'])
            .expression((eb) =>
              eb
                .selectFrom('rotated')
                .select((eb) => [
                  eb.val(p<string>('newTokenHash')).as('token_hash'),
                  'rotated.id',
                  eb.val(p<Date>('now')).as('issued_at'),
                ]),
            ),
        )
        .selectFrom('rotated')
        .selectAll(),
  )
}

// The happy path, built with the typed builder and compiled once (see statement.ts):
// take the row whose current token was presented, if the session is usable (and, when
// limited, under its rotation limit), make the successor current, and append it to the
// chain.
const ROTATE = rotateStatement(false)
const ROTATE_LIMITED = rotateStatement(true)

// A lost race only sends us round once more; more rounds than this means something
// rewrote the row in a loop, which no correct caller does.
const MAX_ROUNDS = 8

/**
 * Rotates a refresh token (SPEC §4, rotation rules 1–3).
 *
 * The common case is one statement: `UPDATE sessions … WHERE current_token_hash = $1`
 * (plus a CTE appending the successor to the chain). PostgreSQL locks the row; a
 * concurrent rotation of the same token waits, then re-checks the `WHERE` against the
 * committed row, no longer matches, and falls through to classification, which reads
 * the committed state (READ COMMITTED: each statement sees what committed before it)
 * and answers `grace` with the winner's successor. Two rotations of one token can
 * therefore never both win, and none of them errors or revokes.
 *
 * Revocation for reuse is again one conditional `UPDATE` that re-checks, under the row
 * lock, that the token is still neither current nor within the window, so a token that
 * just became "previous" a microsecond ago is never mistaken for theft.
 *
 * Inside the caller's transaction it works the same, holding the row lock to the end.
 */
export async function rotateRefreshToken(db: Executor, input: RotateInput): Promise<RotateResult> {
  requireNumber('graceSeconds', input.graceSeconds, 0)
  requireNumber('idleTtlSeconds', input.idleTtlSeconds, 1)
  const now = instant(input.now)
  const graceCutoff = addSeconds(now, -input.graceSeconds)
  const idleUntil = addSeconds(now, input.idleTtlSeconds)
  const { presentedHash, limit } = input
  if (limit) {
    requireNumber('limit.max', limit.max, 1)
    requireNumber('limit.windowSeconds', limit.windowSeconds, 1)
  }
  const windowStart = addSeconds(now, -(limit?.windowSeconds ?? 0))

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const rotated = (
      await db.executeQuery(
        (limit ? ROTATE_LIMITED : ROTATE).bind(db, {
          presentedHash,
          newTokenHash: input.newTokenHash,
          sealedSuccessor: input.sealedSuccessor,
          now,
          idleUntil,
          windowStart,
          max: limit?.max,
        }),
      )
    ).rows[0]
    if (rotated) return { kind: 'rotated', session: toSession(rotated) }

    // Not current (or not usable): find out what the token is, from committed state.
    const found = await db
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .select([
        ...SESSION_COLUMNS.map((c) => `sessions.${c}` as const),
        'sessions.current_token_hash',
        'sessions.previous_token_hash',
        'sessions.rotated_at',
        'sessions.successor_sealed',
      ])
      .where('refresh_tokens.token_hash', '=', presentedHash)
      .executeTakeFirst()
    if (!found) return { kind: 'not_found' }
    const ids = { sessionId: found.id, userId: found.user_id }
    if (found.revoked_at !== null) return { kind: 'revoked', ...ids }
    if (found.idle_expires_at <= now || found.expires_at <= now) return { kind: 'expired', ...ids }
    if (found.current_token_hash === presentedHash) {
      if (limit) {
        const retryAfterSeconds = await rotationRetryAfter(db, found.id, limit, now, windowStart)
        if (retryAfterSeconds > 0) return { kind: 'limited', ...ids, retryAfterSeconds }
      }
      // Became current again between our statements: only a concurrent writer could do
      // that; try again.
      continue
    }
    // Within the window, and only while the sealed successor is still stored: once
    // eraseExpiredSuccessors has erased it (another instance's clock, a shorter window
    // there) the window is over for every instance, and the replay is reuse like any
    // other late one, never a grace answer without a successor.
    if (
      found.previous_token_hash === presentedHash &&
      found.rotated_at !== null &&
      found.rotated_at >= graceCutoff &&
      found.successor_sealed !== null
    ) {
      return { kind: 'grace', session: toSession(found), sealedSuccessor: found.successor_sealed }
    }

    const revoked = await revokeWhere(
      db,
      (eb) =>
        eb.and([
          eb('id', '=', found.id),
          eb('current_token_hash', '<>', presentedHash),
          eb.or([
            eb('previous_token_hash', 'is', null),
            eb('previous_token_hash', '<>', presentedHash),
            eb('rotated_at', '<', graceCutoff),
            eb('successor_sealed', 'is', null),
          ]),
        ]),
      'reuse',
      now,
    )
    if (revoked.count === 1) return { kind: 'reused', ...ids }
    // The row changed under us (revoked by someone else, or rotated): classify again.
  }
  throw new Error('@breakwater/db: refresh-token rotation did not settle')
}

/**
 * Seconds until a session over its rotation limit may rotate again (when the oldest of
 * its last `max` rotations leaves the window), or 0 when it is not over the limit.
 */
async function rotationRetryAfter(
  db: Executor,
  sessionId: string,
  limit: { readonly max: number; readonly windowSeconds: number },
  now: Date,
  windowStart: Date,
): Promise<number> {
  const rows = await db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .select('refresh_tokens.issued_at')
    .where('refresh_tokens.session_id', '=', sessionId)
    .where(
      'refresh_tokens.issued_at',
      '>',
      sql<Date>`greatest(${windowStart}::timestamptz, sessions.created_at)`,
    )
    .orderBy('refresh_tokens.issued_at', 'desc')
    .limit(limit.max)
    .execute()
  const oldest = rows[limit.max - 1]?.issued_at
  if (!oldest) return 0
  const wait = (oldest.getTime() + limit.windowSeconds * 1000 - now.getTime()) / 1000
  return Math.max(1, Math.ceil(wait))
}

/** Input of {@link eraseExpiredSuccessors}. */
export interface EraseExpiredSuccessors {
  /** The `graceSeconds` rotations use (SPEC §4 `REFRESH_REUSE_GRACE`). */
  readonly graceSeconds: number
  readonly now?: Date
}

/**
 * Erases the sealed grace-window successors whose window has ended (SPEC §4: "after it,
 * no stored value together with an old token yields the current one"). A rotation stores
 * the successor sealed under a key derived from the token it replaced, so that a replay
 * within the window gets the same successor; after the window it is only a liability: a
 * database dump plus a stolen old token would open it. Run it on a schedule, at least as
 * often as the window is long for a tight bound (the server's maintenance loop does).
 *
 * One `UPDATE`, through the partial index on rows that still hold a successor. A rotation
 * racing it moves `rotated_at` forward under the row lock, and PostgreSQL re-checks the
 * condition on the new row, so a fresh successor is never erased. The boundary matches
 * {@link rotateRefreshToken}'s: at exactly `rotated_at + graceSeconds` the replay is still
 * within the window and the successor is kept.
 *
 * @example
 * ```ts
 * await eraseExpiredSuccessors(db, { graceSeconds: 10 })
 * ```
 *
 * @returns how many successors were erased.
 */
export async function eraseExpiredSuccessors(
  db: Executor,
  input: EraseExpiredSuccessors,
): Promise<number> {
  requireNumber('graceSeconds', input.graceSeconds, 0)
  const cutoff = addSeconds(instant(input.now), -input.graceSeconds)
  const result = await db
    .updateTable('sessions')
    .set({ successor_sealed: null })
    .where('successor_sealed', 'is not', null)
    .where('rotated_at', '<', cutoff)
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** Input of {@link pruneRefreshChains}. */
export interface PruneRefreshChains {
  /**
   * Chain rows kept per session, newest first; at least 2. The session's current and
   * previous tokens are always kept, whatever their rank.
   */
  readonly keepPerSession: number
}

/**
 * Bounds each session's refresh-token chain (SPEC §4: "chain rows are pruned on a
 * schedule"): deletes all but the `keepPerSession` newest rows of every session, never
 * its current or previous token. Without it a session refreshed every 15 minutes for 30
 * days keeps ~2 900 rows.
 *
 * **Trade-off.** The chain exists so that an old token presented again reads as theft
 * (`reused`: the whole session is revoked). A token older than the kept rows reads
 * `not_found` instead, which the server answers with `REFRESH_INVALID`: the token is
 * still refused, but presenting it no longer revokes the session. Keep enough rows to
 * cover the tokens a thief could plausibly hold (e.g. `keepPerSession: 100` covers 25 h
 * of refreshes every 15 minutes); the current and previous tokens, which decide rotation
 * and the grace window, are never pruned. Ended sessions lose their whole chain when
 * `deleteEndedSessions` deletes them (`ON DELETE CASCADE`).
 *
 * One `DELETE`, ranking each chain by issue time through the
 * `(session_id, issued_at)` index. Rows a concurrent rotation adds are newer than every
 * row it deletes.
 *
 * @example
 * ```ts
 * await pruneRefreshChains(db, { keepPerSession: 100 })
 * ```
 *
 * @returns how many chain rows were deleted.
 */
export async function pruneRefreshChains(db: Executor, input: PruneRefreshChains): Promise<number> {
  const keep = input.keepPerSession
  requireNumber('keepPerSession', keep, 2)
  if (!Number.isInteger(keep)) {
    throw new TypeError('@breakwater/db: keepPerSession must be an integer')
  }
  const ranked = db
    .selectFrom('refresh_tokens')
    .select((eb) => [
      'token_hash',
      'session_id',
      eb.fn
        .agg<number>('row_number')
        .over((ob) =>
          ob.partitionBy('session_id').orderBy('issued_at', 'desc').orderBy('token_hash', 'desc'),
        )
        .as('rank'),
    ])
    .as('ranked')
  const result = await db
    .deleteFrom('refresh_tokens')
    .where('token_hash', 'in', (eb) =>
      eb
        .selectFrom(ranked)
        .innerJoin('sessions', 'sessions.id', 'ranked.session_id')
        .select('ranked.token_hash')
        .where('ranked.rank', '>', keep)
        .whereRef('ranked.token_hash', '<>', 'sessions.current_token_hash')
        .where((eb) =>
          eb.or([
            eb('sessions.previous_token_hash', 'is', null),
            eb('ranked.token_hash', '<>', eb.ref('sessions.previous_token_hash')),
          ]),
        ),
    )
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
