import { type Database, deleteEndedSessions, pruneRateLimits } from '@breakwater/db'

const HOUR_MS = 3_600_000

/** Ended sessions are kept this long, so a replayed old refresh token still reads as `SESSION_REVOKED`. */
const KEEP_ENDED_SESSIONS_MS = 30 * 24 * HOUR_MS

/**
 * Hourly housekeeping: deletes sessions that ended more than 30 days ago and
 * rate-limit windows that no longer count. Every instance runs it; the
 * deletes are idempotent, so running twice costs one cheap query. A failure
 * (storage down) waits for the next hour.
 */
export function startMaintenance(database: Database): () => void {
  const run = () =>
    runMaintenance(database).catch(() => {
      // Nothing depends on it within the hour.
    })
  const timer = setInterval(run, HOUR_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/** One round of housekeeping, as of `now`. */
export async function runMaintenance(database: Database, now = new Date()): Promise<void> {
  await deleteEndedSessions(database.db, new Date(now.getTime() - KEEP_ENDED_SESSIONS_MS))
  await pruneRateLimits(database.db, now)
}
