import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import {
  assertAlgorithm,
  type KeyState,
  makeSigningKey,
  type SigningAlgorithm,
  type SigningKey,
} from './signing-key.js'

export interface GenerateSigningKeyOptions {
  /** `EdDSA` (Ed25519, the default) or `ES256` (P-256). */
  alg?: SigningAlgorithm
  /** `pending` by default: a new key is published before it signs. */
  state?: KeyState
  now?: Date
}

/**
 * Generates a signing key pair. Its `kid` is the RFC 7638 thumbprint of the
 * public key, so it is stable, unique and says nothing but which key it is.
 *
 * @example const key = await generateSigningKey({ state: 'active' })
 */
export async function generateSigningKey(
  options: GenerateSigningKeyOptions = {},
): Promise<SigningKey> {
  const alg = options.alg ?? 'EdDSA'
  assertAlgorithm(alg)
  const state = options.state ?? 'pending'
  const now = options.now ?? new Date()
  const { privateKey, publicKey } =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as never, 'sha256')
  return makeSigningKey({
    kid,
    alg,
    state,
    createdAt: now,
    activatedAt: state === 'active' ? now : null,
    retiredAt: state === 'retired' ? now : null,
    privateKey,
  })
}
