import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'

/** The JWS algorithms Breakwater signs with: Ed25519 by default, P-256 where required. */
export type SigningAlgorithm = 'EdDSA' | 'ES256'

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256']

/**
 * A key's place in its rotation, named as the database stores it: `pending` is
 * published but does not sign yet (so every verifier knows it before the first
 * token it signs arrives), `active` signs, `retired` is still published until
 * every token it signed has expired. Rotation itself is the server's: it keeps
 * the keys in the database, where every instance sees the same states.
 */
export type KeyState = 'pending' | 'active' | 'retired'

/** Every {@link KeyState}, in rotation order. */
export const KEY_STATES: readonly KeyState[] = ['pending', 'active', 'retired']

/** The public members of a JWK, the only ones ever published. */
export interface PublicJwk {
  kty: 'OKP' | 'EC'
  crv: 'Ed25519' | 'P-256'
  x: string
  y?: string
  kid: string
  alg: SigningAlgorithm
  use: 'sig'
}

/**
 * A signing key as JSON, private key included. Never stored as is: the server seals
 * `privateJwk` (see `createSecretBox`) and the database keeps only that.
 */
export interface SigningKeyJson {
  kid: string
  alg: SigningAlgorithm
  state: KeyState
  createdAt: string
  activatedAt: string | null
  retiredAt: string | null
  privateJwk: Record<string, string>
}

/** A usable signing key: imported key objects plus its rotation state. */
export interface SigningKey {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly state: KeyState
  readonly createdAt: Date
  readonly activatedAt: Date | null
  readonly retiredAt: Date | null
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly publicJwk: PublicJwk
}

const CURVE: Record<SigningAlgorithm, { kty: 'OKP' | 'EC'; crv: 'Ed25519' | 'P-256' }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
}

export function assertAlgorithm(alg: unknown): asserts alg is SigningAlgorithm {
  if (!SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm)) {
    throw new TypeError(`unsupported signing algorithm ${JSON.stringify(alg)}: use EdDSA or ES256`)
  }
}

/** Copies only the public members, by allow-list, so a private `d` can never leak. */
export function toPublicJwk(
  jwk: Record<string, unknown>,
  kid: string,
  alg: SigningAlgorithm,
): PublicJwk {
  const { kty, crv } = CURVE[alg]
  if (jwk.kty !== kty || jwk.crv !== crv || typeof jwk.x !== 'string') {
    throw new TypeError(`key ${kid} is not an ${crv} key`)
  }
  const publicJwk: PublicJwk = { kty, crv, x: jwk.x, kid, alg, use: 'sig' }
  if (kty === 'EC') {
    if (typeof jwk.y !== 'string') throw new TypeError(`key ${kid} is not an ${crv} key`)
    publicJwk.y = jwk.y
  }
  return publicJwk
}

interface KeyParts {
  kid: string
  alg: SigningAlgorithm
  state: KeyState
  createdAt: Date
  activatedAt: Date | null
  retiredAt: Date | null
  privateKey: KeyObject
}

export function makeSigningKey(parts: KeyParts): SigningKey {
  const publicKey = createPublicKey(parts.privateKey)
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  return Object.freeze({
    ...parts,
    publicKey,
    publicJwk: Object.freeze(toPublicJwk(jwk, parts.kid, parts.alg)),
  })
}

/**
 * Serialises a key. The result holds the private key in clear: seal it before storing
 * it, and keep it out of logs.
 */
export function exportSigningKey(key: SigningKey): SigningKeyJson {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    createdAt: key.createdAt.toISOString(),
    activatedAt: key.activatedAt?.toISOString() ?? null,
    retiredAt: key.retiredAt?.toISOString() ?? null,
    privateJwk: key.privateKey.export({ format: 'jwk' }) as Record<string, string>,
  }
}

function parseInstant(value: unknown, name: string): Date | null {
  if (value === null || value === undefined) return null
  const date = new Date(value as string)
  if (typeof value !== 'string' || Number.isNaN(date.getTime())) {
    throw new TypeError(`signing key ${name} is not an ISO-8601 instant`)
  }
  return date
}

/** Restores a key stored by {@link exportSigningKey}; throws TypeError on anything malformed. */
export function importSigningKey(json: SigningKeyJson): SigningKey {
  if (typeof json !== 'object' || json === null)
    throw new TypeError('signing key must be an object')
  assertAlgorithm(json.alg)
  if (typeof json.kid !== 'string' || json.kid.length === 0)
    throw new TypeError('signing key has no kid')
  if (!KEY_STATES.includes(json.state)) {
    throw new TypeError(`signing key ${json.kid} has an unknown state`)
  }
  const { kty, crv } = CURVE[json.alg]
  const jwk = json.privateJwk
  if (typeof jwk !== 'object' || jwk === null || jwk.kty !== kty || jwk.crv !== crv || !jwk.d) {
    throw new TypeError(`signing key ${json.kid} does not hold an ${crv} private key`)
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: jwk, format: 'jwk' })
  } catch {
    throw new TypeError(`signing key ${json.kid} does not hold a valid ${crv} private key`)
  }
  return makeSigningKey({
    kid: json.kid,
    alg: json.alg,
    state: json.state,
    createdAt: parseInstant(json.createdAt, 'createdAt') ?? new Date(0),
    activatedAt: parseInstant(json.activatedAt, 'activatedAt'),
    retiredAt: parseInstant(json.retiredAt, 'retiredAt'),
    privateKey,
  })
}
