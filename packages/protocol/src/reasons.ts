/**
 * Every stable `data.reason` code a Breakwater server answers with (SPEC §3).
 * Each tells a client its next move (refresh once, sign out, show a message,
 * retry later), so the server and every client share this one list.
 */
export const BREAKWATER_REASONS = [
  'TOKEN_MISSING',
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'REFRESH_MISSING',
  'REFRESH_INVALID',
  'REFRESH_REUSED',
  'INVALID_CREDENTIALS',
  'RATE_LIMITED',
  'CSRF_REJECTED',
  'EMAIL_TAKEN',
  'SESSION_NOT_FOUND',
  'WEAK_PASSWORD',
  'REGISTRATION_REJECTED',
  'DELETION_REJECTED',
  'LINK_INVALID',
  'EMAIL_NOT_VERIFIED',
  'REAUTH_REQUIRED',
  'MFA_ALREADY_ENABLED',
  'PASSKEY_REJECTED',
  'PASSKEY_NOT_FOUND',
  'DB_UNAVAILABLE',
] as const

export type BreakwaterReason = (typeof BREAKWATER_REASONS)[number]

/** The tRPC error code (and so the HTTP status) each reason travels with. */
export const REASON_CODES = {
  TOKEN_MISSING: 'UNAUTHORIZED',
  TOKEN_EXPIRED: 'UNAUTHORIZED',
  TOKEN_INVALID: 'UNAUTHORIZED',
  SESSION_REVOKED: 'UNAUTHORIZED',
  SESSION_EXPIRED: 'UNAUTHORIZED',
  REFRESH_MISSING: 'UNAUTHORIZED',
  REFRESH_INVALID: 'UNAUTHORIZED',
  REFRESH_REUSED: 'UNAUTHORIZED',
  INVALID_CREDENTIALS: 'UNAUTHORIZED',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  CSRF_REJECTED: 'FORBIDDEN',
  EMAIL_TAKEN: 'CONFLICT',
  SESSION_NOT_FOUND: 'NOT_FOUND',
  WEAK_PASSWORD: 'BAD_REQUEST',
  REGISTRATION_REJECTED: 'FORBIDDEN',
  DELETION_REJECTED: 'FORBIDDEN',
  LINK_INVALID: 'BAD_REQUEST',
  EMAIL_NOT_VERIFIED: 'FORBIDDEN',
  REAUTH_REQUIRED: 'UNAUTHORIZED',
  MFA_ALREADY_ENABLED: 'CONFLICT',
  PASSKEY_REJECTED: 'BAD_REQUEST',
  PASSKEY_NOT_FOUND: 'NOT_FOUND',
  DB_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const satisfies Record<BreakwaterReason, string>

/** Whether a value is one of {@link BREAKWATER_REASONS}. */
export function isBreakwaterReason(value: unknown): value is BreakwaterReason {
  return typeof value === 'string' && (BREAKWATER_REASONS as readonly string[]).includes(value)
}

/**
 * What a client does about a reason: `refresh` (once, then retry), `sign-out`
 * (the session is gone), `reauthenticate` (prove a factor again with
 * `auth.reauthenticate`, then retry once: SPEC §10 step-up), or `fail` (show
 * it; the session is untouched).
 * `TOKEN_MISSING` is `sign-out`: a browser that holds a session always sends
 * its access cookie (SPEC §5), so a missing one means there is none.
 */
export function nextMove(
  reason: BreakwaterReason | undefined,
): 'refresh' | 'sign-out' | 'reauthenticate' | 'fail' {
  switch (reason) {
    case 'TOKEN_EXPIRED':
      return 'refresh'
    case 'REAUTH_REQUIRED':
      return 'reauthenticate'
    case 'TOKEN_MISSING':
    case 'TOKEN_INVALID':
    case 'SESSION_REVOKED':
    case 'SESSION_EXPIRED':
    case 'REFRESH_MISSING':
    case 'REFRESH_INVALID':
    case 'REFRESH_REUSED':
      return 'sign-out'
    default:
      return 'fail'
  }
}
