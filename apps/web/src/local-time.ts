/** A server timestamp (ISO 8601) in the reader's own format and time zone. */
export function localTime(iso: string): string {
  return new Date(iso).toLocaleString()
}
