import type { Insertable, Selectable } from 'kysely'

/**
 * `rate_limits`: one row per key, two fixed windows (current and previous) whose counts
 * are weighted into a sliding-window estimate, the approach of Cloudflare's and
 * nginx's limiters: O(1) storage per key, no per-hit rows.
 */
export interface RateLimitTable {
  key: string
  window_start: Date
  window_seconds: number
  count: number
  previous_count: number
}

export type RateLimitRow = Selectable<RateLimitTable>
export type NewRateLimitRow = Insertable<RateLimitTable>
