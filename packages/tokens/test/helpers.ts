import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  KeySet,
  type KeyState,
  type SigningAlgorithm,
  type SigningKey,
} from '../src/index.js'

export const ISSUER = 'https://auth.breakwater.test'
export const AUDIENCE = 'breakwater'

/** A settable clock, in milliseconds, starting at a fixed instant. */
export function fixedClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)) {
  let now = start
  const clock = () => now
  clock.advance = (seconds: number) => {
    now += seconds * 1000
  }
  clock.seconds = () => Math.floor(now / 1000)
  return clock
}

export async function setup(alg: SigningAlgorithm = 'EdDSA') {
  const clock = fixedClock()
  const key = await generateSigningKey({ alg, state: 'active' })
  const keys = KeySet.from([key])
  const signer = createAccessTokenSigner({
    issuer: ISSUER,
    audience: AUDIENCE,
    ttl: '15m',
    keys,
    clock,
  })
  const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys, clock })
  return { clock, key, keys, signer, verifier }
}

/** The same key in another state: what the server's keyring does to a stored row. */
export function inState(key: SigningKey, state: KeyState): SigningKey {
  return importSigningKey({ ...exportSigningKey(key), state })
}
