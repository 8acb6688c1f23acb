import { canonicalEmail, hitRateLimit, refundRateLimit } from '@breakwater/db'
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
    now: runtime.now(),
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
    now: runtime.now(),
  })
}
