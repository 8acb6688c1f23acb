import type { Tokens } from '../wire.js'

/**
 * Where the bearer transport keeps its tokens. The client reads it once, then
 * writes every rotation through it (a refresh token is single-use: losing the
 * successor signs the user out, reusing the previous one revokes the session).
 * Methods may be synchronous or return promises. A stored `accessToken` of
 * `''` (a store that keeps only the refresh token) makes the client refresh
 * before its first call.
 */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>
  set(tokens: Tokens): void | Promise<void>
  clear(): void | Promise<void>
}
