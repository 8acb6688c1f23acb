import type { KeyObject } from 'node:crypto'
import type { PublicJwk, SigningAlgorithm, SigningKey } from './signing-key.js'

/** The public half of a key, which is all verification needs. */
export interface VerificationKey {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly publicKey: KeyObject
}

/** What a verifier needs: the published key for a `kid`, if there is one. */
export interface VerificationKeys {
  verificationKey(kid: string): VerificationKey | undefined
}

/** What a signer needs: the one key that signs now. */
export interface SigningKeys {
  signingKey(): SigningKey
}

export interface Jwks {
  keys: PublicJwk[]
}

/**
 * An immutable set of keys in their rotation states. Exactly one key is
 * `active` (it signs); every key in the set is published and verifies, which is
 * what lets a `pending` key be known everywhere before it signs and a `retired`
 * one keep verifying until its tokens have expired.
 */
export class KeySet implements VerificationKeys, SigningKeys {
  readonly keys: readonly SigningKey[]
  readonly #byKid: ReadonlyMap<string, SigningKey>
  readonly #active: SigningKey
  readonly #jwks: string

  private constructor(keys: readonly SigningKey[]) {
    const active = keys.filter((key) => key.state === 'active')
    if (active.length !== 1) {
      throw new TypeError(`a key set needs exactly one active key, it has ${active.length}`)
    }
    const byKid = new Map<string, SigningKey>()
    for (const key of keys) {
      if (byKid.has(key.kid)) throw new TypeError(`duplicate kid ${key.kid} in key set`)
      byKid.set(key.kid, key)
    }
    this.keys = Object.freeze([...keys])
    this.#byKid = byKid
    this.#active = active[0]!
    this.#jwks = JSON.stringify({ keys: keys.map((key) => key.publicJwk) })
  }

  static from(keys: Iterable<SigningKey>): KeySet {
    return new KeySet([...keys])
  }

  signingKey(): SigningKey {
    return this.#active
  }

  verificationKey(kid: string): SigningKey | undefined {
    return this.#byKid.get(kid)
  }

  /** The public JWKS (RFC 7517 §5): public members only, every published key. */
  jwks(): Jwks {
    return JSON.parse(this.#jwks) as Jwks
  }

  /** The JWKS as serialised once, for serving without re-encoding per request. */
  jwksJson(): string {
    return this.#jwks
  }
}
