import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { toSeconds } from '../duration.js'
import type { SigningKeys } from '../keys/key-set.js'
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type Clock,
  isAmr,
  isInstant,
  requireNonEmpty,
  systemClock,
} from './claims.js'

export interface AccessTokenSignerOptions {
  issuer: string
  audience: string
  /** Access-token lifetime: seconds or a duration (`15m`, the default). */
  ttl?: number | string
  keys: SigningKeys
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: Clock
}

/** Who and what a token is for: {@link AccessTokenSigner.sign}'s argument. */
export interface AccessTokenSubject {
  /** The user id. */
  sub: string
  /** The session id. */
  sid: string
  /**
   * When the session ends: the earlier of its idle and absolute expiry, as a Date or
   * in seconds since the epoch. The token's `exp` never passes it (SPEC §4), so no
   * access token outlives its session. Omitted: `exp = iat + ttl`.
   */
  notAfter?: Date | number
  /** `auth_time`: when the user last proved a factor, as a Date or in seconds since the epoch. */
  authTime?: Date | number
  /** `amr`: RFC 8176 method values, e.g. `['pwd']` or `['pwd', 'otp']`. */
  amr?: readonly string[]
}

export interface SignedAccessToken {
  token: string
  claims: AccessTokenClaims
  expiresAt: Date
}

export interface AccessTokenSigner {
  readonly ttlSeconds: number
  /**
   * Signs a token for `subject`. Throws a `TypeError` for a malformed subject, and for
   * a `notAfter` that leaves no lifetime (`exp` would not be after `iat`): a session
   * that has ended must not get a token.
   */
  sign(subject: AccessTokenSubject): Promise<SignedAccessToken>
}

/** Seconds since the epoch, floored, from a Date or a number of seconds. */
function toEpochSeconds(value: Date | number, name: string): number {
  const seconds = value instanceof Date ? value.getTime() / 1000 : value
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError(`${name} must be a valid Date or a number of seconds since the epoch`)
  }
  return Math.floor(seconds)
}

/**
 * Builds a signer with its options checked once. Each token gets `typ: at+jwt`,
 * the active key's `kid` and `alg`, a fresh `jti`, and
 * `exp = min(iat + ttl, notAfter)`: exactly the lifetime, unless the session ends sooner.
 *
 * @example
 * const signer = createAccessTokenSigner({ issuer, audience, keys })
 * const { token, expiresAt } = await signer.sign({
 *   sub: user.id,
 *   sid: session.id,
 *   notAfter: earliest(session.idleExpiresAt, session.expiresAt),
 * })
 */
export function createAccessTokenSigner(options: AccessTokenSignerOptions): AccessTokenSigner {
  const issuer = requireNonEmpty(options.issuer, 'issuer')
  const audience = requireNonEmpty(options.audience, 'audience')
  const ttlSeconds = toSeconds(options.ttl ?? '15m', 'ttl')
  if (ttlSeconds < 1) throw new TypeError('ttl must be at least 1s')
  if (typeof options.keys?.signingKey !== 'function')
    throw new TypeError('keys must provide signingKey()')
  const clock = options.clock ?? systemClock
  const keys = options.keys

  return Object.freeze({
    ttlSeconds,
    async sign(subject: AccessTokenSubject): Promise<SignedAccessToken> {
      const sub = requireNonEmpty(subject.sub, 'sub')
      const sid = requireNonEmpty(subject.sid, 'sid')
      const iat = Math.floor(clock() / 1000)
      let exp = iat + ttlSeconds
      if (subject.notAfter !== undefined) {
        exp = Math.min(exp, toEpochSeconds(subject.notAfter, 'notAfter'))
        if (exp <= iat) throw new TypeError('notAfter is not after now: the session has ended')
      }
      const claims: AccessTokenClaims = {
        iss: issuer,
        aud: audience,
        sub,
        sid,
        jti: randomUUID(),
        iat,
        exp,
      }
      // Only when given, so that a token without them verifies to exactly these claims.
      const extra: { auth_time?: number; amr?: string[] } = {}
      if (subject.authTime !== undefined) {
        const authTime = toEpochSeconds(subject.authTime, 'authTime')
        if (!isInstant(authTime)) throw new TypeError('authTime is out of range')
        claims.auth_time = extra.auth_time = authTime
      }
      if (subject.amr !== undefined) {
        if (!isAmr(subject.amr)) {
          throw new TypeError('amr must be 1 to 8 non-empty strings of at most 32 characters')
        }
        extra.amr = [...subject.amr]
        claims.amr = [...subject.amr]
      }
      const key = keys.signingKey()
      const token = await new SignJWT({ sid: claims.sid, jti: claims.jti, ...extra })
        .setProtectedHeader({ alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid })
        .setIssuer(claims.iss)
        .setAudience(claims.aud)
        .setSubject(claims.sub)
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(key.privateKey)
      return { token, claims, expiresAt: new Date(claims.exp * 1000) }
    },
  })
}

/** One-off signing; build a signer with {@link createAccessTokenSigner} for repeated use. */
export function signAccessToken(
  subject: AccessTokenSubject,
  options: AccessTokenSignerOptions,
): Promise<SignedAccessToken> {
  return createAccessTokenSigner(options).sign(subject)
}
