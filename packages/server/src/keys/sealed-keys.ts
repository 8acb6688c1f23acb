import { type Database, type SigningKey as StoredKey, sealSigningKey } from '@breakwater/db'
import {
  exportSigningKey,
  importSigningKey,
  type KeyState,
  type SecretBox,
  SecretBoxError,
  type SigningKey,
  type SigningKeyJson,
} from '@breakwater/tokens'
import { BreakwaterSetupError } from '../setup-error.js'

/**
 * The associated data a signing key's private half is sealed with: its kid. A sealed
 * value copied onto another row does not open there, so whoever can write the table
 * still cannot make a known key sign under another kid.
 */
export function signingKeyAssociatedData(kid: string): string {
  return `signing-key:${kid}`
}

/**
 * A stored signing key that none of the configured secrets opens. Its message is one
 * line, starts with `@breakwater/server:`, and names the kid and key ids only.
 */
export class SigningKeyUnreadable extends BreakwaterSetupError {
  readonly kid: string

  constructor(kid: string, reason: string) {
    super(
      'SIGNING_KEY_UNREADABLE',
      `signing key ${kid} cannot be decrypted with BREAKWATER_SECRET (the secret option): ${reason}`,
    )
    this.name = 'SigningKeyUnreadable'
    this.kid = kid
  }
}

function unreadable(kid: string, error: unknown, box: SecretBox): SigningKeyUnreadable {
  if (error instanceof SecretBoxError && error.code === 'SECRET_BOX_UNKNOWN_KEY') {
    return new SigningKeyUnreadable(
      kid,
      `it was sealed under another secret (configured key ids: ${box.keyIds.join(', ')}). ` +
        'Configure the secret it was sealed with, after the new one ("new,old"), and run breakwater keys rewrap',
    )
  }
  if (error instanceof SecretBoxError) {
    return new SigningKeyUnreadable(
      kid,
      'its sealed value does not open (tampered with, or copied from another key)',
    )
  }
  return new SigningKeyUnreadable(kid, 'its sealed value does not hold a usable private key')
}

/** Seals a key's private JWK for storage. */
export function sealPrivateKey(box: SecretBox, key: SigningKey): string {
  return sealPrivateJwk(box, key.kid, JSON.stringify(exportSigningKey(key).privateJwk))
}

/** Seals a private JWK (as JSON text) for the row of `kid`. */
export function sealPrivateJwk(box: SecretBox, kid: string, privateJwk: string): string {
  return box.seal(privateJwk, signingKeyAssociatedData(kid))
}

/**
 * The private JWK of a stored row as JSON text: opened from its sealed value, or a
 * legacy plaintext copy. `undefined` when the row holds neither (a dropped key).
 *
 * @throws {SigningKeyUnreadable} when no configured secret opens it.
 */
export function openPrivateJwk(box: SecretBox, stored: StoredKey): string | undefined {
  if (stored.sealedPrivateKey !== null) {
    try {
      return box.openText(stored.sealedPrivateKey, signingKeyAssociatedData(stored.kid))
    } catch (error) {
      throw unreadable(stored.kid, error, box)
    }
  }
  return stored.privateJwk === null ? undefined : JSON.stringify(stored.privateJwk)
}

/**
 * A stored row as a usable key in `state`; `undefined` for a row without a private key
 * or with an algorithm this version does not sign with.
 *
 * @throws {SigningKeyUnreadable} when it cannot be opened or does not hold a valid key.
 */
export function openStoredKey(
  box: SecretBox,
  stored: StoredKey,
  state: KeyState,
): SigningKey | undefined {
  if (stored.alg !== 'EdDSA' && stored.alg !== 'ES256') return undefined
  const privateJwk = openPrivateJwk(box, stored)
  if (privateJwk === undefined) return undefined
  const json: SigningKeyJson = {
    kid: stored.kid,
    alg: stored.alg,
    state,
    createdAt: stored.createdAt.toISOString(),
    activatedAt: stored.activatedAt?.toISOString() ?? null,
    retiredAt: stored.retiredAt?.toISOString() ?? null,
    privateJwk: {},
  }
  try {
    json.privateJwk = JSON.parse(privateJwk) as Record<string, string>
    const key = importSigningKey(json)
    // The kid is the thumbprint of the public key: a private key that does not match
    // its row's public JWK was not sealed for this row.
    if (key.publicJwk.x !== stored.publicJwk.x) throw new TypeError('mismatch')
    return key
  } catch (error) {
    throw unreadable(stored.kid, error, box)
  }
}

/**
 * Seals every legacy row that still holds its private key in clear (written before
 * migration 000006), clearing the plaintext.
 *
 * @returns how many rows this call sealed.
 */
export async function sealLegacyKeys(
  database: Database,
  box: SecretBox,
  stored: readonly StoredKey[],
): Promise<number> {
  let sealed = 0
  for (const row of stored) {
    if (row.sealedPrivateKey !== null || row.privateJwk === null) continue
    const written = await sealSigningKey(database.db, {
      kid: row.kid,
      sealedPrivateKey: sealPrivateJwk(box, row.kid, JSON.stringify(row.privateJwk)),
      replacing: null,
    })
    if (written) sealed++
  }
  return sealed
}
