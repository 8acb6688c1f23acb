import { canonicalEmail, hitRateLimit, peekRateLimit, refundRateLimit } from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import type { NormalizedRateLimit } from '../options.js'
import type { Runtime } from '../runtime.js'
import { addressBucket } from '../session/client.js'

// Counters live in the database so that every instance counts the same
// attempts (SPEC §6): five failures spread over three instances are five.
// Every limit counts an attempt *before* the work it guards, in one atomic
// statement, so a burst of N concurrent attempts gets at most `max` through.

async function hit(runtime: Runtime, key: string, limit: NormalizedRateLimit): Promise<void> {
  const verdict = await hitRateLimit(runtime.database.db, {
    key,
    limit: limit.max,
    windowSeconds: limit.windowSeconds,
    now: new Date(runtime.clock()),
  })
  if (!verdict.allowed)
    throw new BreakwaterError('RATE_LIMITED', { retryAfter: verdict.retryAfterSeconds })
}

const accountKey = (email: string) => `auth:account:${canonicalEmail(email)}`

/** Counts one attempt from this client address (IPv6 per /64); 429 past `loginIpLimit`. */
export function limitAttemptsFromIp(runtime: Runtime, ip: string): Promise<void> {
  return hit(runtime, `auth:ip:${addressBucket(ip)}`, runtime.options.loginIpLimit)
}

/**
 * Counts one password (or code) check against the account, whether or not it
 * exists (so the answer reveals nothing), before the check runs; 429 past
 * `loginAccountLimit`. A check that succeeds gives its attempt back with
 * {@link refundAccountAttempt}.
 */
export function takeAccountAttempt(runtime: Runtime, email: string): Promise<void> {
  return hit(runtime, accountKey(email), runtime.options.loginAccountLimit)
}

export async function refundAccountAttempt(runtime: Runtime, email: string): Promise<void> {
  await refundRateLimit(runtime.database.db, {
    key: accountKey(email),
    windowSeconds: runtime.options.loginAccountLimit.windowSeconds,
    now: new Date(runtime.clock()),
  })
}

const refreshKey = (sessionId: string) => `refresh:session:${sessionId}`

/**
 * Refuses a refresh of a session that rotated `refreshLimit` times within the
 * window. Only rotations count ({@link countRotation}): a burst of tabs
 * replaying one token inside the grace window writes no chain row and must
 * not lock the session out. Peeking first and counting after is still exact,
 * because a session's rotations are serialised by its one current token.
 */
export async function assertRefreshAllowed(runtime: Runtime, sessionId: string): Promise<void> {
  const { max, windowSeconds } = runtime.options.refreshLimit
  const verdict = await peekRateLimit(runtime.database.db, {
    key: refreshKey(sessionId),
    limit: max,
    windowSeconds,
    now: new Date(runtime.clock()),
  })
  if (!verdict.allowed)
    throw new BreakwaterError('RATE_LIMITED', { retryAfter: verdict.retryAfterSeconds })
}

export async function countRotation(runtime: Runtime, sessionId: string): Promise<void> {
  const { max, windowSeconds } = runtime.options.refreshLimit
  await hitRateLimit(runtime.database.db, {
    key: refreshKey(sessionId),
    limit: max,
    windowSeconds,
    now: new Date(runtime.clock()),
  })
}
