import { hitRateLimit, peekRateLimit, resetRateLimit } from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import type { Runtime } from '../runtime.js'

// Counters live in the database so that every instance counts the same
// attempts (SPEC §6): five failures spread over three instances are five.

/** Counts one login or register attempt from this IP; 429 past `loginIpLimit`. */
export async function limitAttemptsFromIp(runtime: Runtime, ip: string): Promise<void> {
  const { max, windowSeconds } = runtime.options.loginIpLimit
  const verdict = await hitRateLimit(runtime.database.db, {
    key: `auth:ip:${ip}`,
    limit: max,
    windowSeconds,
  })
  if (!verdict.allowed)
    throw new BreakwaterError('RATE_LIMITED', { retryAfter: verdict.retryAfterSeconds })
}

const accountKey = (email: string) => `auth:account:${email.toLowerCase()}`

/**
 * Refuses a login for an account that already had `loginAccountLimit`
 * failures, whether or not the account exists (so the answer reveals nothing).
 */
export async function assertAccountNotLocked(runtime: Runtime, email: string): Promise<void> {
  const { max, windowSeconds } = runtime.options.loginAccountLimit
  const verdict = await peekRateLimit(runtime.database.db, {
    key: accountKey(email),
    limit: max,
    windowSeconds,
  })
  if (!verdict.allowed)
    throw new BreakwaterError('RATE_LIMITED', { retryAfter: verdict.retryAfterSeconds })
}

export async function recordAccountFailure(runtime: Runtime, email: string): Promise<void> {
  const { max, windowSeconds } = runtime.options.loginAccountLimit
  await hitRateLimit(runtime.database.db, { key: accountKey(email), limit: max, windowSeconds })
}

export async function clearAccountFailures(runtime: Runtime, email: string): Promise<void> {
  await resetRateLimit(runtime.database.db, accountKey(email))
}
