import type { FetchEsque } from '../wire.js'

/** How credentials travel: the part of the client that differs between cookies and bearer tokens. */
export interface Transport {
  readonly kind: 'cookie' | 'bearer'
  /** The fetch the HTTP links use (cookie transport adds `credentials: 'include'`). */
  readonly fetch: FetchEsque | undefined
  /** Reads persisted credentials once; `expiresAt` (ms) of the access token when there is one. */
  load(): Promise<{ signedIn: boolean; expiresAt: number | undefined }>
  /** Whether a refresh could succeed at all (bearer: a refresh token is held). */
  canRefresh(): boolean
  /** Headers of one HTTP request carrying calls to `paths`. */
  headers(isMutation: boolean, paths: readonly string[]): Record<string, string>
  /** One refresh attempt. Throws `RefreshRejected` for an error answer, anything else for a failed request. */
  refresh(): Promise<{ expiresAt: number | undefined }>
  /** Learns from a sign-in or refresh result; resolves to the new access-token expiry (ms). */
  capture(data: unknown): Promise<number | undefined>
  /** Forgets local credentials (cookies are the server's to clear). */
  clear(): Promise<void>
}
