import { toSeconds } from '../duration.js'

/** The claims of a Breakwater access token (SPEC §4), all of them required. */
export interface AccessTokenClaims {
  iss: string
  aud: string
  /** The user id. */
  sub: string
  /** The session id: what revocation is decided on. */
  sid: string
  jti: string
  iat: number
  exp: number
}

/** The `typ` header of an access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Leeway may absorb clock skew, not extend a token's life: SPEC §4 caps it. */
export const MAX_CLOCK_LEEWAY_SECONDS = 30

/** Tokens longer than this are refused before any decoding (ours are ~350 bytes). */
export const DEFAULT_MAX_TOKEN_LENGTH = 4096

export type Clock = () => number

export const systemClock: Clock = () => Date.now()

export function requireNonEmpty(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`)
  }
  return value
}

export function leewaySeconds(value: number | string | undefined): number {
  const seconds = toSeconds(value ?? '5s', 'clockLeeway')
  if (seconds > MAX_CLOCK_LEEWAY_SECONDS) {
    throw new TypeError(`clockLeeway must be at most ${MAX_CLOCK_LEEWAY_SECONDS}s, got ${seconds}s`)
  }
  return seconds
}
