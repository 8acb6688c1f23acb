import { randomBytes } from 'node:crypto'

/** The least a key-encryption secret may hold: 256 bits, the AES-256 key size (SPEC §2). */
export const MIN_SECRET_BYTES = 32

const BASE64URL = /^[A-Za-z0-9_-]+$/

/**
 * Decodes one key-encryption secret: base64url (RFC 4648 §5, unpadded) of at least
 * {@link MIN_SECRET_BYTES} bytes. Throws a `TypeError` that names the problem and
 * `name`, never the value: the message may reach a log or a terminal.
 *
 * @example const kek = parseSecret(process.env.BREAKWATER_SECRET ?? '', 'BREAKWATER_SECRET')
 */
export function parseSecret(value: unknown, name = 'secret'): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`)
  if (value.length === 0) throw new TypeError(`${name} is empty`)
  if (!BASE64URL.test(value)) {
    // Say which alphabet was used by mistake, without quoting a single character.
    const hint = /[+/=]/.test(value)
      ? ' (it looks like standard base64: use base64url, with - and _ and no = padding)'
      : ''
    throw new TypeError(`${name} is not base64url${hint}`)
  }
  const bytes = Buffer.from(value, 'base64url')
  // Node ignores trailing bits it cannot use; a value that does not re-encode to itself
  // is a typo or a truncation, not a secret someone generated.
  if (value.length % 4 === 1 || bytes.toString('base64url') !== value) {
    throw new TypeError(`${name} is not canonical base64url (truncated or mistyped?)`)
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(
      `${name} must decode to at least ${MIN_SECRET_BYTES} random bytes, it has ${bytes.length}`,
    )
  }
  return bytes
}

/**
 * Decodes a list of secrets, newest first: an array, or one string of comma-separated
 * secrets (`"new,old"`, as an environment variable holds them). Duplicates are dropped;
 * an empty list is a `TypeError`. Messages name an entry by its position only.
 */
export function parseSecrets(value: string | readonly string[], name = 'secret'): Buffer[] {
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list)) throw new TypeError(`${name} must be a string or a list of strings`)
  const entries = list.map((entry) => (typeof entry === 'string' ? entry.trim() : entry))
  if (entries.length === 0 || entries.every((entry) => entry === '')) {
    throw new TypeError(`${name} is empty`)
  }
  const seen = new Set<string>()
  const secrets: Buffer[] = []
  entries.forEach((entry, index) => {
    const label = entries.length > 1 ? `${name} (entry ${index + 1})` : name
    const bytes = parseSecret(entry, label)
    const key = bytes.toString('base64url')
    if (seen.has(key)) return
    seen.add(key)
    secrets.push(bytes)
  })
  return secrets
}

/**
 * A fresh secret: 32 bytes from the CSPRNG, base64url. What the embedded default
 * writes to its secret file, and what `BREAKWATER_SECRET` should be made of.
 */
export function generateSecret(): string {
  return randomBytes(MIN_SECRET_BYTES).toString('base64url')
}
