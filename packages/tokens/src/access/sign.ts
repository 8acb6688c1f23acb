import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { toSeconds } from '../duration.js'
import type { SigningKeys } from '../keys/key-set.js'
import {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type Clock,
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

export interface SignedAccessToken {
  token: string
  claims: AccessTokenClaims
  expiresAt: Date
}

export interface AccessTokenSigner {
  readonly ttlSeconds: number
  sign(subject: { sub: string; sid: string }): Promise<SignedAccessToken>
}

/**
 * Builds a signer with its options checked once. Each token gets `typ: at+jwt`,
 * the active key's `kid` and `alg`, a fresh `jti`, and `exp = iat + ttl` exactly.
 *
 * @example
 * const signer = createAccessTokenSigner({ issuer, audience, keys })
 * const { token, expiresAt } = await signer.sign({ sub: user.id, sid: session.id })
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
    async sign(subject: { sub: string; sid: string }): Promise<SignedAccessToken> {
      const sub = requireNonEmpty(subject.sub, 'sub')
      const sid = requireNonEmpty(subject.sid, 'sid')
      const key = keys.signingKey()
      const iat = Math.floor(clock() / 1000)
      const claims: AccessTokenClaims = {
        iss: issuer,
        aud: audience,
        sub,
        sid,
        jti: randomUUID(),
        iat,
        exp: iat + ttlSeconds,
      }
      const token = await new SignJWT({ sid: claims.sid, jti: claims.jti })
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
  subject: { sub: string; sid: string },
  options: AccessTokenSignerOptions,
): Promise<SignedAccessToken> {
  return createAccessTokenSigner(options).sign(subject)
}
