const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const

const DURATION = /^(\d{1,9})(s|m|h|d)$/

/**
 * Parses a duration written as a whole number and a unit (`30s`, `15m`, `12h`,
 * `7d`) into whole seconds. Every Breakwater setting that is a duration goes
 * through here, so the accepted forms are the same everywhere.
 *
 * @throws TypeError for anything else (negative, fractional, unitless, empty).
 * @example parseDuration('15m') // 900
 */
export function parseDuration(text: string): number {
  const match = typeof text === 'string' ? DURATION.exec(text.trim()) : null
  if (!match) {
    throw new TypeError(
      `invalid duration ${JSON.stringify(String(text).slice(0, 32))}: expected a whole number and a unit, as 30s, 15m, 12h or 7d`,
    )
  }
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS]
}

/** Accepts seconds as a number or a duration string; the form options take. */
export function toSeconds(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`${name} must be a whole number of seconds, got ${value}`)
    }
    return value
  }
  try {
    return parseDuration(value)
  } catch (error) {
    throw new TypeError(`${name}: ${(error as Error).message}`)
  }
}
