import { sql } from 'kysely'
import type { Executor } from '../executor.js'
import { tableOf } from '../schema-plugin.js'
import { instant, isStorableText, requireNumber } from '../values.js'

/** A limit: at most `limit` hits per `windowSeconds`, per key. */
export interface RateLimit {
  /** e.g. `login:account:<userId>` or `login:ip:<ip>`; at most 512 characters. */
  readonly key: string
  readonly limit: number
  readonly windowSeconds: number
  readonly now?: Date
}

/** Verdict of {@link hitRateLimit} / {@link peekRateLimit}. */
export interface RateLimitVerdict {
  readonly allowed: boolean
  /** Whole seconds until one more hit would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number
  /** The sliding-window estimate of hits, including this one when it was counted. */
  readonly count: number
}

interface Window {
  readonly start: Date
  readonly previousStart: Date
  /** Share of the previous window still inside the sliding window, in [0, 1]. */
  readonly previousWeight: number
  readonly elapsed: number
}

// Windows are aligned on the epoch, so every process computes the same boundaries
// without asking the database.
function windowAt(now: Date, windowSeconds: number): Window {
  const size = windowSeconds * 1000
  const start = Math.floor(now.getTime() / size) * size
  const elapsed = (now.getTime() - start) / size
  return {
    start: new Date(start),
    previousStart: new Date(start - size),
    previousWeight: 1 - elapsed,
    elapsed,
  }
}

function check(input: RateLimit): void {
  requireNumber('limit', input.limit, 1)
  requireNumber('windowSeconds', input.windowSeconds, 1)
  if (!Number.isInteger(input.limit) || !Number.isInteger(input.windowSeconds)) {
    throw new TypeError('@breakwater/db: limit and windowSeconds must be integers')
  }
}

// Seconds until `current` + `previous` (as seen in `w`) would admit one more hit.
function retryAfter(input: RateLimit, w: Window, current: number, previous: number): number {
  const { limit, windowSeconds } = input
  let wait: number
  if (current + 1 > limit) {
    // Not before the next window; there, this window's count weighs in as "previous"
    // until enough of it has slid out.
    const slide = Math.max(0, 1 - (limit - 1) / current)
    wait = (1 - w.elapsed + slide) * windowSeconds
  } else {
    const needed = previous > 0 ? Math.max(0, 1 - (limit - 1 - current) / previous) : 0
    wait = Math.max(0, needed - w.elapsed) * windowSeconds
  }
  return Math.max(1, Math.ceil(wait - 1e-9))
}

function estimate(w: Window, current: number, previous: number): number {
  return previous * w.previousWeight + current
}

/**
 * Counts one hit against `key` if it is allowed, in one atomic statement (an upsert
 * whose `DO UPDATE … WHERE` re-checks the limit under the row lock), and says whether
 * it was. A denied hit is not counted, so a client that keeps knocking is let back in
 * once the window slides, not locked out for ever.
 *
 * Sliding-window estimate: previous window's count × the share of it still inside the
 * window, plus the current window's count.
 *
 * Count before the work it guards (SPEC §6): a burst of N concurrent attempts then gets
 * at most `limit` allowed verdicts, whatever N, because each hit is counted and checked
 * in the same statement. For "30 attempts per IP per minute": `hitRateLimit` on every
 * attempt. For "5 failed logins per account per 15 min": `hitRateLimit` before checking
 * the password, {@link resetRateLimit} after a success, {@link refundRateLimit} when the
 * attempt was refused before its password was checked. ({@link peekRateLimit} only
 * reads: checking with it and counting later lets a burst through.)
 */
export async function hitRateLimit(db: Executor, input: RateLimit): Promise<RateLimitVerdict> {
  check(input)
  if (!isStorableText(input.key)) throw new TypeError('@breakwater/db: rate-limit key has NUL')
  const now = instant(input.now)
  const w = windowAt(now, input.windowSeconds)
  const previousCount = sql<number>`case when r.window_start = ${w.start}::timestamptz then r.previous_count when r.window_start = ${w.previousStart}::timestamptz then r.count else 0 end`
  const currentCount = sql<number>`case when r.window_start = ${w.start}::timestamptz then r.count else 0 end`
  const result = await sql<{ count: number; previous_count: number }>`
    insert into ${tableOf(db, 'rate_limits')} as r (key, window_start, window_seconds, count, previous_count)
    values (${input.key}, ${w.start}::timestamptz, ${input.windowSeconds}::int, 1, 0)
    on conflict (key) do update set
      previous_count = ${previousCount},
      count = ${currentCount} + 1,
      window_start = excluded.window_start,
      window_seconds = excluded.window_seconds
    where ${previousCount} * ${w.previousWeight}::float8 + ${currentCount} + 1 <= ${input.limit}::int
    returning count, previous_count`.execute(db)
  const row = result.rows[0]
  if (row) {
    return {
      allowed: true,
      retryAfterSeconds: 0,
      count: estimate(w, row.count, row.previous_count),
    }
  }
  const verdict = await peekRateLimit(db, { ...input, now })
  // A reset between the two statements can make the peek look allowed; this hit was
  // still refused, so say so.
  return verdict.allowed ? { allowed: false, retryAfterSeconds: 1, count: verdict.count } : verdict
}

/**
 * The verdict {@link hitRateLimit} would give, without counting a hit.
 */
export async function peekRateLimit(db: Executor, input: RateLimit): Promise<RateLimitVerdict> {
  check(input)
  const now = instant(input.now)
  const w = windowAt(now, input.windowSeconds)
  const row = isStorableText(input.key)
    ? await db
        .selectFrom('rate_limits')
        .select(['window_start', 'count', 'previous_count'])
        .where('key', '=', input.key)
        .executeTakeFirst()
    : undefined
  let current = 0
  let previous = 0
  if (row) {
    const start = row.window_start.getTime()
    if (start === w.start.getTime()) {
      current = row.count
      previous = row.previous_count
    } else if (start === w.previousStart.getTime()) {
      previous = row.count
    }
  }
  const count = estimate(w, current, previous)
  if (count + 1 <= input.limit) return { allowed: true, retryAfterSeconds: 0, count }
  return { allowed: false, retryAfterSeconds: retryAfter(input, w, current, previous), count }
}

/** Input of {@link refundRateLimit}: which counter, and the window it is kept in. */
export interface RateLimitRefund {
  readonly key: string
  /** The same `windowSeconds` as the hits being refunded. */
  readonly windowSeconds: number
  readonly now?: Date
}

/**
 * Takes back one hit of `key`, atomically, never going below zero: for a hit that
 * {@link hitRateLimit} counted before the work it guards, when that work then did not
 * happen (SPEC §6: "an attempt is counted before its password is checked"; a caller that
 * refused the attempt for another reason, such as a full hashing queue, gives it back).
 *
 * One conditional `UPDATE` under the row lock, so concurrent refunds and hits never lose
 * an update. The hit is taken from the window the row last counted in: the current
 * window, or the previous one when no hit has rolled the row over since (the refunded
 * hit then sat just before the boundary).
 *
 * @returns whether a hit was taken back (`false` when there was none to take).
 */
export async function refundRateLimit(db: Executor, input: RateLimitRefund): Promise<boolean> {
  requireNumber('windowSeconds', input.windowSeconds, 1)
  if (!Number.isInteger(input.windowSeconds)) {
    throw new TypeError('@breakwater/db: windowSeconds must be an integer')
  }
  if (!isStorableText(input.key)) return false
  const w = windowAt(instant(input.now), input.windowSeconds)
  const result = await db
    .updateTable('rate_limits')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('key', '=', input.key)
    .where('window_start', 'in', [w.start, w.previousStart])
    .where('count', '>', 0)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Forgets every hit of `key` (after a successful login, for the account key). */
export async function resetRateLimit(db: Executor, key: string): Promise<void> {
  if (!isStorableText(key)) return
  await db.deleteFrom('rate_limits').where('key', '=', key).execute()
}

/**
 * Deletes counters that can no longer affect a verdict (older than two of their windows).
 *
 * @returns how many were deleted.
 */
export async function pruneRateLimits(db: Executor, now?: Date): Promise<number> {
  const result = await db
    .deleteFrom('rate_limits')
    .where(
      sql<boolean>`window_start + make_interval(secs => window_seconds * 2) < ${instant(now)}::timestamptz`,
    )
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
