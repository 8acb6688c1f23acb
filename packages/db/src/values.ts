// Small input helpers shared by the query modules.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether `value` can be compared with a `uuid` column without a cast error. */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/** Whether PostgreSQL could store `value` as `text` at all (it rejects NUL). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000')
}

/**
 * Cuts informational text (user agents, IPs) to `max` code points and drops NUL, so a
 * hostile header can neither fail a sign-in nor bloat a row. Identity fields (email,
 * hashes) are never clipped: the schema rejects them instead.
 */
export function clip(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null
  const clean = value.replaceAll('\u0000', '')
  const points = Array.from(clean)
  return points.length <= max ? clean : points.slice(0, max).join('')
}

/** `now` as given, or the current instant. */
export function instant(now: Date | undefined): Date {
  return now ?? new Date()
}

/** Throws a `TypeError` unless `value` is a finite number ≥ `min` (caller bugs, not input). */
export function requireNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`@breakwater/db: ${name} must be a finite number >= ${min}`)
  }
}

/** `date` moved by `seconds`. */
export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}
