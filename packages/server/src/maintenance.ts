import {
  type Database,
  deleteEndedSessions,
  eraseExpiredSuccessors,
  pruneAuditEvents,
  pruneOneTimeTokens,
  pruneRateLimits,
  pruneRefreshChains,
  pruneWebAuthnChallenges,
} from '@breakwater/db'
import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedOptions } from './options.js'

const HOUR_MS = 3_600_000

/** Ended sessions are kept this long, so a replayed old refresh token still reads as `SESSION_REVOKED`. */
const KEEP_ENDED_SESSIONS_MS = 30 * 24 * HOUR_MS

/**
 * Rotated refresh tokens a live session remembers. An older one presented
 * again reads `REFRESH_INVALID` (refused, but without the theft alarm); with
 * `refreshLimit` and hourly pruning, this bounds a session's rows.
 */
export const KEEP_CHAIN_PER_SESSION = 100

type MaintenanceOptions = Pick<ResolvedOptions, 'auditRetention' | 'refreshReuseGrace' | 'clock'>

/**
 * Housekeeping. Every grace window: erase sealed successors whose window has
 * ended (SPEC §4: after it no stored value and an old token yield the current
 * one). Hourly: delete sessions that ended over 30 days ago, trim refresh
 * chains, drop audit events past `auditRetention` and spent rate-limit
 * windows, used and expired one-time tokens. Every instance runs it; the
 * statements are idempotent. A failure (storage down) is logged and waits
 * for the next round.
 */
export function startMaintenance(
  database: Database,
  options: MaintenanceOptions,
  log: FastifyBaseLogger,
): () => void {
  const report = (what: string) => (error: unknown) =>
    log.warn({ err: error }, `housekeeping failed (${what}); retrying next round`)
  const hourly = setInterval(
    () => runMaintenance(database, options).catch(report('hourly')),
    HOUR_MS,
  )
  const sweep = setInterval(
    () =>
      eraseExpiredSuccessors(database.db, {
        graceSeconds: options.refreshReuseGrace,
        now: new Date(options.clock()),
      }).catch(report('successor sweep')),
    Math.max(1000, options.refreshReuseGrace * 1000),
  )
  hourly.unref()
  sweep.unref()
  return () => {
    clearInterval(hourly)
    clearInterval(sweep)
  }
}

/** One round of hourly housekeeping, as of the options' clock. */
export async function runMaintenance(
  database: Database,
  options: MaintenanceOptions,
): Promise<void> {
  const now = new Date(options.clock())
  await deleteEndedSessions(database.db, new Date(now.getTime() - KEEP_ENDED_SESSIONS_MS))
  await eraseExpiredSuccessors(database.db, { graceSeconds: options.refreshReuseGrace, now })
  await pruneRefreshChains(database.db, { keepPerSession: KEEP_CHAIN_PER_SESSION })
  await pruneAuditEvents(database.db, {
    before: new Date(now.getTime() - options.auditRetention * 1000),
  })
  await pruneRateLimits(database.db, now)
  await pruneOneTimeTokens(database.db, now)
  await pruneWebAuthnChallenges(database.db, now)
}
