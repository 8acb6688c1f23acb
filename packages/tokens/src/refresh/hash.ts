import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * SHA-256 of a refresh token, base64url: the only form a refresh token is
 * stored in. A fast hash suffices because the token carries 256 bits of
 * entropy; a slow password hash would only cost every refresh.
 */
export function hashRefreshToken(token: string): string {
  if (typeof token !== 'string') throw new TypeError('refresh token must be a string')
  return createHash('sha256').update(token, 'utf8').digest('base64url')
}

/**
 * Compares two secrets in constant time. Both sides are hashed first so that
 * neither their contents nor their lengths shape the time taken.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest()
  const right = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(left, right) && a.length === b.length
}
