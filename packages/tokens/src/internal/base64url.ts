// Web APIs only: this module is shared with the browser entry.

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function isBase64url(text: string): boolean {
  return BASE64URL.test(text) && text.length % 4 !== 1
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
