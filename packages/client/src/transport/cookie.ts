import { CSRF_HEADER } from '@breakwater/protocol'
import type { WireTransformer } from '../transformer.js'
import { expiryOfResult, type FetchEsque, postRefresh } from '../wire.js'
import type { Transport } from './types.js'

/** The anti-CSRF proof of SPEC §5: a header no cross-site form can send without a preflight. */
export const CSRF_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  [CSRF_HEADER]: '1',
})
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * Cookie transport (browsers): the server keeps both tokens in HttpOnly
 * cookies, so this side never sees one. It only sends cookies along
 * (`credentials: 'include'`), adds the CSRF header to mutations, and learns
 * the access token's expiry from `session.accessTokenExpiresAt` in results.
 */
export function cookieTransport(options: {
  url: string
  /** The refresh procedure's path (under the namespace, if any): the refresh cookie's own path. */
  refreshPath: string
  transformer: WireTransformer
  fetch: FetchEsque | undefined
}): Transport {
  const base = options.fetch
  const fetchImpl: FetchEsque = (input, init) =>
    (base ?? globalThis.fetch)(input, { ...init, credentials: 'include' } as RequestInit)

  return {
    kind: 'cookie',
    fetch: fetchImpl,
    // Whether a session exists is the server's secret (HttpOnly); find out on the first call.
    load: async () => ({ signedIn: false, expiresAt: undefined }),
    canRefresh: () => true,
    headers: (isMutation) => (isMutation ? (CSRF_HEADERS as Record<string, string>) : NO_HEADERS),
    async refresh() {
      // No input: the refresh token is in the cookie the browser adds.
      const data = await postRefresh({
        fetch: fetchImpl,
        url: options.url,
        path: options.refreshPath,
        transformer: options.transformer,
        headers: CSRF_HEADERS,
        input: undefined,
      })
      return { expiresAt: expiryOfResult(data) }
    },
    capture: async (data) => expiryOfResult(data),
    clear: async () => {},
  }
}
