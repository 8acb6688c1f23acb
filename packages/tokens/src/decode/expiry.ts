import { decodeJsonSegment } from '../internal/base64url.js'

/**
 * Reads an access token's `exp` as a Date **without verifying anything**: for
 * a client that schedules its refresh shortly before expiry. Never use the
 * result to trust the token. Web APIs only, so it runs in browsers.
 *
 * @returns the expiry, or `null` when the token is not a JWT with a numeric `exp`.
 */
export function decodeAccessTokenExpiry(token: string): Date | null {
  if (typeof token !== 'string' || token.length > 8192) return null
  const parts = token.split('.')
  if (parts.length !== 3) return null
  const payload = decodeJsonSegment(parts[1]!)
  const exp = payload?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null
}
