import { decodeAccessTokenExpiry } from '@breakwater/tokens/browser'
import type { Clock } from '../clock.js'
import type { TokenStore } from '../store/types.js'
import type { WireTransformer } from '../transformer.js'
import { type FetchEsque, isTokens, postRefresh, RefreshRejected, type Tokens } from '../wire.js'
import type { Transport } from './types.js'

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

function expiryOf(tokens: Tokens): number | undefined {
  // A store may keep only the refresh token (the access token is short-lived
  // and cheap to mint): no access token is as good as an expired one, refresh first.
  if (tokens.accessToken === '') return 0
  const ms = Date.parse(tokens.accessTokenExpiresAt)
  if (!Number.isNaN(ms)) return ms
  return decodeAccessTokenExpiry(tokens.accessToken)?.getTime()
}

/**
 * Bearer transport (Node, CLIs, mobile): the access token goes in
 * `Authorization`, the refresh token in the body of `auth.refresh`, and both
 * live in a {@link TokenStore}, rotated on every refresh.
 */
export function bearerTransport(options: {
  url: string
  /** The refresh procedure's path (under the namespace, if any). */
  refreshPath: string
  transformer: WireTransformer
  store: TokenStore
  fetch: FetchEsque | undefined
  clock: Clock
}): Transport {
  const { url, refreshPath, transformer, store, clock } = options
  const fetchImpl: FetchEsque =
    options.fetch ?? ((input, init) => globalThis.fetch(input, init as RequestInit))
  let tokens: Tokens | null = null
  let authorization: Record<string, string> = NO_HEADERS

  const hold = (next: Tokens | null) => {
    tokens = next
    // Built once per token, not per request: headers() is on every call's path.
    // No access token, no header: `Bearer ` alone is malformed (TOKEN_INVALID), absent is TOKEN_MISSING.
    authorization = next?.accessToken ? { authorization: `Bearer ${next.accessToken}` } : NO_HEADERS
  }

  return {
    kind: 'bearer',
    fetch: options.fetch,
    async load() {
      const stored = await store.get()
      hold(isTokens(stored) ? stored : null)
      return { signedIn: tokens !== null, expiresAt: tokens ? expiryOf(tokens) : undefined }
    },
    canRefresh: () => tokens !== null,
    headers(_isMutation, paths) {
      // The refresh token travels in the body; an Authorization header there is noise.
      if (paths.length === 1 && paths[0] === refreshPath) return NO_HEADERS
      return authorization
    },
    async refresh() {
      // Another process sharing the store (a second CLI run) may have rotated
      // the token since we read it: presenting ours again would look like theft.
      const stored = await store.get()
      if (isTokens(stored) && stored.refreshToken !== tokens?.refreshToken) {
        hold(stored)
        const expiresAt = expiryOf(stored)
        if (expiresAt !== undefined && expiresAt > clock.now() + 1000) return { expiresAt }
      }
      if (!tokens) throw new RefreshRejected(401, 'REFRESH_MISSING', 'No refresh token is stored.')
      const data = await postRefresh({
        fetch: fetchImpl,
        url,
        path: refreshPath,
        transformer,
        headers: NO_HEADERS,
        input: { refreshToken: tokens.refreshToken },
      })
      if (!isTokens(data.tokens)) throw new Error(`${refreshPath} answered without tokens`)
      hold(data.tokens)
      await store.set(data.tokens)
      return { expiresAt: expiryOf(data.tokens) }
    },
    async capture(data) {
      const next = (data as { tokens?: unknown } | null)?.tokens
      // `auth.reauthenticate` answers a fresh access token alone: the session keeps its refresh token.
      const merged =
        tokens !== null && isFreshAccess(next) && !isTokens(next) ? { ...tokens, ...next } : next
      if (!isTokens(merged)) return undefined
      hold(merged)
      await store.set(merged)
      return expiryOf(merged)
    },
    async clear() {
      hold(null)
      await store.clear()
    },
  }
}

function isFreshAccess(
  value: unknown,
): value is Pick<Tokens, 'accessToken' | 'accessTokenExpiresAt'> {
  const candidate = value as Partial<Tokens> | null | undefined
  return (
    typeof candidate?.accessToken === 'string' && typeof candidate.accessTokenExpiresAt === 'string'
  )
}
