/** A token read from a mailed link (`/reset-password?token=…`), and the page it came with. */
export interface LinkToken {
  path: string
  token: string
}

/**
 * Reads `?token=` from the address bar and removes it there at once, with
 * `history.replaceState`: a link token is a password for a while (SPEC §9), so
 * it must not stay in the history, be bookmarked, or be copied along with the
 * URL. Call it before any request: index.html's `no-referrer` policy covers
 * the assets the page loaded until now; this covers what the user does next.
 */
export function takeLinkToken(location: Location = window.location): LinkToken | undefined {
  const url = new URL(location.href)
  const token = url.searchParams.get('token')
  if (token === null) return undefined
  url.searchParams.delete('token')
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`)
  return token ? { path: url.pathname, token } : undefined
}
