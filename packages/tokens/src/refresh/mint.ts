import { randomBytes } from 'node:crypto'

/** 32 bytes from the CSPRNG: 256 bits, the floor SPEC §4 sets. */
export const REFRESH_TOKEN_BYTES = 32

const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** Mints an opaque refresh token: 256 random bits, base64url (43 characters). */
export function mintRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url')
}

/** True for a string shaped like a token {@link mintRefreshToken} makes; cheap, checked before any lookup. */
export function isRefreshTokenShape(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_TOKEN_SHAPE.test(value)
}
