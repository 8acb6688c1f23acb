// Web APIs only: this module is shared with the browser entry.

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function isBase64url(text: string): boolean {
  return BASE64URL.test(text) && text.length % 4 !== 1
}

// The 6-bit value of each base64url character, by char code (RFC 4648 §5, table 2).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const VALUES = new Uint8Array(128)
for (let value = 0; value < ALPHABET.length; value++) VALUES[ALPHABET.charCodeAt(value)] = value

/**
 * Whether `text` is the one canonical base64url spelling of its bytes (RFC 4648 §3.5):
 * unpadded, and with the unused low bits of the last character zero. Lenient decoders
 * (Node's, atob) ignore those bits, so without this check 16 different strings decode
 * to the same 64-byte signature: one token would have many spellings, each a different
 * cache key, log line or revocation-list entry (SPEC §4: any other spelling is
 * TOKEN_INVALID). One regular-expression test and one lookup: it runs on every verify.
 */
export function isCanonicalBase64url(text: string): boolean {
  const rest = text.length % 4
  if (text.length === 0 || rest === 1 || !BASE64URL.test(text)) return false
  if (rest === 0) return true
  // 2 trailing chars carry 1 byte (4 bits unused), 3 carry 2 bytes (2 bits unused).
  const last = VALUES[text.charCodeAt(text.length - 1)] as number
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** Decodes base64url to a string of bytes (each char one byte), or null when it is not base64url. */
export function decodeBase64urlToBinary(text: string): string | null {
  if (!isBase64url(text)) return null
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  try {
    return atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  } catch {
    return null
  }
}

/** Decodes a base64url JSON object segment of a JWT, or null if it is anything else. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  const binary = decodeBase64urlToBinary(segment)
  if (binary === null) return null
  let value: unknown
  try {
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return value as Record<string, unknown>
}
