import type { Executor } from '../executor.js'
import { loadRecentRevocations } from '../queries/revocations.js'
import type { RevocationHub, RevocationSource } from './feed.js'

/** Tuning of the polling fallback. */
export interface PollOptions {
  /** Default 500 ms, comfortably inside SPEC §4's "within 1 s". */
  readonly intervalMs?: number
  /**
   * Each poll re-reads this far behind the previous poll's start, covering clock skew
   * between instances and transactions that committed late with an earlier
   * `revoked_at`. Duplicates are filtered. Default 5 s.
   */
  readonly overlapMs?: number
}

/**
 * Polls `sessions` for new revocations: for deployments where LISTEN is unavailable
 * (PgBouncer in transaction mode without a direct `listenUrl`). One indexed query per
 * interval per process (the partial index on `revoked_at`). A failed poll is reported
 * and retried at the next tick from the same point, so nothing is skipped.
 */
export function startPollSource(
  db: Executor,
  hub: RevocationHub,
  onError: (error: unknown) => void,
  options: PollOptions = {},
): RevocationSource {
  const intervalMs = options.intervalMs ?? 500
  const overlapMs = options.overlapMs ?? 5000
  // sessionId → revokedAt (ms), to drop repeats inside the overlap.
  const seen = new Map<string, number>()
  let since = Date.now()
  let healthy = true
  let running: Promise<void> | undefined
  let stopped = false

  const poll = async () => {
    const startedAt = Date.now()
    try {
      const events = await loadRecentRevocations(db, new Date(since - overlapMs))
      for (const event of events) {
        const at = event.revokedAt.getTime()
        if (seen.get(event.sessionId) === at) continue
        seen.set(event.sessionId, at)
        hub.emit(event)
      }
      since = startedAt
      healthy = true
      const horizon = since - 2 * overlapMs
      for (const [id, at] of seen) if (at < horizon) seen.delete(id)
    } catch (error) {
      healthy = false
      onError(error)
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return
    running = poll().finally(() => {
      running = undefined
    })
  }, intervalMs)
  timer.unref()

  return {
    get healthy() {
      return healthy
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
