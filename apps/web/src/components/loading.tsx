/** What shows while the session is read, or a part of the page loads. */
export function Loading() {
  return <p className="muted">Loading…</p>
}
