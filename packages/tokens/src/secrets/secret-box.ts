import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { parseSecrets } from './secret.js'

// SPEC §2: signing private keys, TOTP seeds and any other secret are stored encrypted
// (AES-256-GCM) under a key-encryption key (KEK) that never enters the database, so a
// dump alone opens nothing. A sealed value is one printable string:
//
//   v1.<keyId>.<iv>.<ciphertext ‖ tag>      (each part base64url)
//
// keyId names the KEK that sealed it (a short hash, not the key), so that with several
// secrets configured ("new,old", while rotating) the right one is tried at once, and a
// rewrap can tell which values still need it.

const VERSION = 'v1'
const IV_BYTES = 12 // 96-bit nonce, GCM's native size (NIST SP 800-38D §8.2)
const TAG_BYTES = 16
const KEY_ID_BYTES = 6
// The AES key and the key id are derived from the secret (HKDF, RFC 5869) under
// different labels: neither reveals the other, and a secret longer than 32 bytes
// still yields an AES-256 key.
const ENCRYPTION_INFO = 'breakwater/secret-box/v1/aes-256-gcm'
const KEY_ID_INFO = 'breakwater/secret-box/v1/key-id'
const MAC_INFO = 'breakwater/secret-box/v1/hmac-sha256'

/** Why a sealed value could not be opened. */
export type SecretBoxErrorCode =
  /** Not a value {@link SecretBox.seal} produced. */
  | 'SECRET_BOX_MALFORMED'
  /** Sealed under a secret that is not among those configured. */
  | 'SECRET_BOX_UNKNOWN_KEY'
  /** Tampered with, or sealed with other associated data (another row's value). */
  | 'SECRET_BOX_UNOPENABLE'

/** A sealed value that does not open. The message never holds a secret or the value. */
export class SecretBoxError extends Error {
  readonly code: SecretBoxErrorCode

  constructor(code: SecretBoxErrorCode, message: string) {
    super(message)
    this.name = 'SecretBoxError'
    this.code = code
  }
}

/** Seals and opens small secrets under a list of key-encryption secrets. */
export interface SecretBox {
  /** The ids of the configured secrets, the sealing one first. Not secret: safe to log. */
  readonly keyIds: readonly string[]
  /**
   * Encrypts `plaintext` under the first secret, with a fresh random IV.
   * `associatedData` is authenticated, not stored: pass what the value belongs to (a row
   * id) so that a sealed value copied to another row does not open there.
   */
  seal(plaintext: string | Uint8Array, associatedData: string): string
  /** Decrypts with whichever configured secret sealed it; throws {@link SecretBoxError}. */
  open(sealed: string, associatedData: string): Buffer
  /** {@link SecretBox.open}, decoded as UTF-8. */
  openText(sealed: string, associatedData: string): string
  /** Whether `sealed` is sealed under the first secret, i.e. a rewrap would not change it. */
  isCurrent(sealed: string): boolean
  /** Opens `sealed` and seals it again under the first secret. */
  reseal(sealed: string, associatedData: string): string
  /**
   * HMAC-SHA256 of `value` under a key derived from the first secret for `label`
   * (base64url): how one-time tokens and codes are stored, so a database dump alone
   * cannot even try the million 6-digit codes. Rotating the secret voids outstanding ones.
   */
  digest(label: string, value: string): string
}

interface Kek {
  readonly id: string
  readonly key: Buffer
  readonly macKey: Buffer
}

function deriveKek(secret: Buffer): Kek {
  const derive = (info: string, length: number) =>
    Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, length))
  return {
    id: derive(KEY_ID_INFO, KEY_ID_BYTES).toString('base64url'),
    key: derive(ENCRYPTION_INFO, 32),
    macKey: derive(MAC_INFO, 32),
  }
}

function requireAssociatedData(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError('associatedData must be a non-empty string')
  }
  return value
}

// The version and key id are authenticated too, so no part of the header can be edited.
function aad(keyId: string, associatedData: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${associatedData}`, 'utf8')
}

function parse(sealed: unknown): { keyId: string; iv: Buffer; body: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : []
  const [version, keyId, iv, body] = parts
  if (parts.length !== 4 || version !== VERSION || !keyId || !iv || !body) {
    throw new SecretBoxError('SECRET_BOX_MALFORMED', 'not a sealed value')
  }
  const ivBytes = Buffer.from(iv, 'base64url')
  const bodyBytes = Buffer.from(body, 'base64url')
  if (ivBytes.length !== IV_BYTES || bodyBytes.length < TAG_BYTES) {
    throw new SecretBoxError('SECRET_BOX_MALFORMED', 'not a sealed value')
  }
  return { keyId, iv: ivBytes, body: bodyBytes }
}

/**
 * Builds a box over one secret or a list, newest first: the first seals, any opens,
 * which is how the key-encryption secret rotates (configure `"new,old"`, rewrap, then
 * drop the old one). Each secret is base64url of at least 32 random bytes; a bad one
 * is a `TypeError` that names its position, never its value.
 *
 * @example
 * const box = createSecretBox(process.env.BREAKWATER_SECRET!.split(','))
 * const sealed = box.seal(seed, `totp:${userId}`)
 * box.open(sealed, `totp:${userId}`) // the seed; any other associated data throws
 */
export function createSecretBox(secrets: string | readonly string[]): SecretBox {
  const keks = parseSecrets(secrets).map(deriveKek)
  const primary = keks[0]!
  const keyIds = Object.freeze(keks.map((kek) => kek.id))

  function seal(plaintext: string | Uint8Array, associatedData: string): string {
    const ad = requireAssociatedData(associatedData)
    if (typeof plaintext !== 'string' && !(plaintext instanceof Uint8Array)) {
      throw new TypeError('plaintext must be a string or bytes')
    }
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', primary.key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(aad(primary.id, ad))
    const body = Buffer.concat([
      typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ])
    return `${VERSION}.${primary.id}.${iv.toString('base64url')}.${body.toString('base64url')}`
  }

  function open(sealed: string, associatedData: string): Buffer {
    const ad = requireAssociatedData(associatedData)
    const { keyId, iv, body } = parse(sealed)
    const candidates = keks.filter((kek) => kek.id === keyId)
    if (candidates.length === 0) {
      throw new SecretBoxError(
        'SECRET_BOX_UNKNOWN_KEY',
        `sealed under key id ${keyId}, which is none of the configured secrets (${keyIds.join(', ')})`,
      )
    }
    const ciphertext = body.subarray(0, body.length - TAG_BYTES)
    const tag = body.subarray(body.length - TAG_BYTES)
    // Two secrets sharing a 48-bit id is improbable, not impossible: try each.
    for (const kek of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, {
          authTagLength: TAG_BYTES,
        })
        decipher.setAAD(aad(keyId, ad))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(ciphertext), decipher.final()])
      } catch {
        // authentication failed under this key
      }
    }
    throw new SecretBoxError(
      'SECRET_BOX_UNOPENABLE',
      'sealed value does not open: tampered with, or sealed for other associated data',
    )
  }

  return Object.freeze({
    keyIds,
    seal,
    open,
    openText: (sealed: string, associatedData: string) =>
      open(sealed, associatedData).toString('utf8'),
    isCurrent: (sealed: string) => parse(sealed).keyId === primary.id,
    reseal(sealed: string, associatedData: string): string {
      const plaintext = open(sealed, associatedData)
      try {
        return seal(plaintext, associatedData)
      } finally {
        plaintext.fill(0)
      }
    },
    digest(label: string, value: string): string {
      if (typeof label !== 'string' || label.length === 0 || label.includes('\u0000'))
        throw new TypeError('label must be a non-empty string without NUL')
      if (typeof value !== 'string') throw new TypeError('value must be a string')
      // The label and the value are separated by a NUL no label holds: ("a", "b|c") and
      // ("a|b", "c") never collide.
      return createHmac('sha256', primary.macKey)
        .update(label)
        .update('\u0000')
        .update(value)
        .digest('base64url')
    },
  })
}
