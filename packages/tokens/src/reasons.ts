/**
 * Every stable `data.reason` code a Breakwater server answers with. Each tells
 * a client its next move (refresh once, sign out, show a message, retry later),
 * so the server and every client share this one list.
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
  'DB_UNAVAILABLE',
] as const

export type BreakwaterReason = (typeof BREAKWATER_REASONS)[number]
