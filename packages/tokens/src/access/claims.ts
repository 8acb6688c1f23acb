import { toSeconds } from '../duration.js'

/**
 * The claims of a Breakwater access token (SPEC §4). All are required but
 * `auth_time` and `amr`, which are present when the signer was given them.
 */
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
  /** When the user last proved a factor, in seconds since the epoch (OIDC Core §2). */
  auth_time?: number
  /** How they proved it: RFC 8176 values such as `pwd`, `otp`, `hwk`. */
  amr?: string[]
}

/** The `typ` header of an access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Leeway may absorb clock skew, not extend a token's life: SPEC §4 caps it. */
export const MAX_CLOCK_LEEWAY_SECONDS = 30

/** Tokens longer than this are refused before any decoding (ours are ~350 bytes). */
export const DEFAULT_MAX_TOKEN_LENGTH = 4096

/** At most this many `amr` values, each of at most {@link MAX_AMR_VALUE_LENGTH} characters. */
export const MAX_AMR_VALUES = 8
export const MAX_AMR_VALUE_LENGTH = 32

/** Whether `value` is a well-formed `amr`: a short, non-empty list of short, non-empty strings. */
export function isAmr(value: unknown): value is string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_AMR_VALUES) return false
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_AMR_VALUE_LENGTH)
      return false
  }
  return true
}

/** Whether `value` is a NumericDate this package writes: whole, non-negative seconds. */
export function isInstant(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

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
