import { KeyObject, type webcrypto } from 'node:crypto'
import { createRemoteJWKSet, errors as joseErrors } from 'jose'
import { type AccessTokenClaims, DEFAULT_MAX_TOKEN_LENGTH } from '../access/claims.js'
import { createAccessTokenVerifier } from '../access/verify.js'
import { toSeconds } from '../duration.js'
import { TokenInvalidError } from '../errors.js'
import { decodeJsonSegment } from '../internal/base64url.js'
import type { VerificationKey } from '../keys/key-set.js'
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../keys/signing-key.js'

export interface RemoteVerifierOptions {
  /** The issuer's `/.well-known/jwks.json`. */
  jwksUrl: string | URL
  issuer: string
  audience: string
  clockLeeway?: number | string
  /** How long fetched keys are trusted before a refetch; default `10m`. */
  cacheMaxAge?: number | string
  /** Least time between two refetches caused by an unknown `kid`; default `30s`. */
  cooldown?: number | string
  /** JWKS request timeout; default `5s`. */
  timeout?: number | string
}

export interface RemoteVerifier {
  /** Resolves the claims, or rejects with a TokenError; a JWKS that cannot be fetched rejects with that failure. */
  verify(token: unknown): Promise<AccessTokenClaims>
}

function algorithmOf(key: webcrypto.CryptoKey): SigningAlgorithm | undefined {
  const algorithm = key.algorithm as { name: string; namedCurve?: string }
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256'
  return undefined
}

/**
 * A verifier for other services that trust Breakwater's tokens. Keys come
 * from the issuer's JWKS through jose's remote key set (cached, refetched when
 * an unknown `kid` arrives after a rotation, concurrent refetches shared, a
 * cooldown against kid floods); every check is the local verifier's own, so a
 * token means the same thing everywhere. It does not know about revocation: a
 * service that needs immediate revocation asks the Breakwater server.
 */
export function createRemoteVerifier(options: RemoteVerifierOptions): RemoteVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: toSeconds(options.cacheMaxAge ?? '10m', 'cacheMaxAge') * 1000,
    cooldownDuration: toSeconds(options.cooldown ?? '30s', 'cooldown') * 1000,
    timeoutDuration: toSeconds(options.timeout ?? '5s', 'timeout') * 1000,
  })
  const imported = new WeakMap<webcrypto.CryptoKey, KeyObject>()
  // The key resolved for the token being verified right now; set and used in
  // one synchronous stretch, so concurrent calls cannot see each other's key.
  let resolved: VerificationKey | undefined
  const verifier = createAccessTokenVerifier({
    issuer: options.issuer,
    audience: options.audience,
    clockLeeway: options.clockLeeway,
    keys: { verificationKey: (kid) => (resolved?.kid === kid ? resolved : undefined) },
  })

  async function resolveKey(token: string): Promise<VerificationKey | undefined> {
    if (token.length > DEFAULT_MAX_TOKEN_LENGTH) return undefined
    const header = decodeJsonSegment(token.slice(0, Math.max(0, token.indexOf('.'))))
    const { kid, alg } = header ?? {}
    if (typeof kid !== 'string' || !SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm))
      return undefined
    try {
      const key = (await jwks({ alg: alg as string, kid }, {
        payload: '',
        signature: '',
      } as never)) as webcrypto.CryptoKey
      const keyAlg = algorithmOf(key)
      if (!keyAlg || keyAlg !== alg) return undefined
      let publicKey = imported.get(key)
      if (!publicKey) {
        publicKey = KeyObject.from(key)
        imported.set(key, publicKey)
      }
      return { kid, alg: keyAlg, publicKey }
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSNoMatchingKey ||
        error instanceof joseErrors.JWKSMultipleMatchingKeys
      ) {
        return undefined
      }
      throw error
    }
  }

  return Object.freeze({
    async verify(token: unknown): Promise<AccessTokenClaims> {
      if (typeof token !== 'string') throw new TokenInvalidError('token is not a string')
      const key = await resolveKey(token)
      resolved = key
      try {
        return verifier.verify(token)
      } finally {
        resolved = undefined
      }
    },
  })
}
