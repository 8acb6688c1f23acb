/**
 * Where the client reads the time and sets its timers: the proactive-refresh
 * deadline, the backoff between refresh attempts, and cross-tab coordination's
 * claim windows. The default is the real one; tests pass their own so they can
 * move time instead of waiting for it (as jose's tests freeze theirs).
 *
 * The client calls these as methods of the object. Unlike `@breakwater/tokens`'
 * `Clock` (a bare `() => number`), this one also sets timers.
 *
 * @example
 * ```ts
 * let now = Date.now()
 * const clock: Clock = { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as never) }
 * const client = createBreakwaterClient<AppRouter>({ url, transport: 'bearer', clock })
 * now += 15 * 60_000 // the next call refreshes first
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number
  /** Calls `callback` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown
  /** Cancels a timer {@link Clock.setTimeout} returned. */
  clearTimeout(handle: unknown): void
}

/** The real clock. The timers go through `globalThis`: browsers refuse `window.setTimeout` called on another object. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle: unknown) =>
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
})

/** Whether a value can serve as a {@link Clock}: checked once, when the client is made. */
export function isClock(value: unknown): value is Clock {
  if (typeof value !== 'object' || value === null) return false
  const clock = value as Record<string, unknown>
  return (
    typeof clock.now === 'function' &&
    typeof clock.setTimeout === 'function' &&
    typeof clock.clearTimeout === 'function'
  )
}
