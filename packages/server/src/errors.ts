import { type BreakwaterReason, REASON_CODES } from '@breakwater/protocol'
import { TRPCError } from '@trpc/server'

export type { BreakwaterReason }

const MESSAGE: Record<BreakwaterReason, string> = {
  TOKEN_MISSING: 'No access token was sent.',
  TOKEN_EXPIRED: 'The access token has expired.',
  TOKEN_INVALID: 'The access token is not valid.',
  SESSION_REVOKED: 'The session has ended.',
  SESSION_EXPIRED: 'The session has expired.',
  REFRESH_MISSING: 'No refresh token was sent.',
  REFRESH_INVALID: 'The refresh token is not valid.',
  REFRESH_REUSED: 'The refresh token was already used; the session has been ended.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  CSRF_REJECTED: 'The request was refused: it does not come from an allowed origin.',
  EMAIL_TAKEN: 'An account with this email already exists.',
  SESSION_NOT_FOUND: 'No such session.',
  WEAK_PASSWORD: 'The password is too weak.',
  REGISTRATION_REJECTED: 'The registration was refused.',
  DELETION_REJECTED: 'The account could not be deleted. Nothing was changed.',
  LINK_INVALID: 'This link is not valid: it was used, replaced by a newer one, or it expired.',
  REAUTH_REQUIRED: 'Confirm it is you: sign in again with your password or a code, then retry.',
  MFA_ALREADY_ENABLED: 'An authenticator app is already set up: disable it first.',
  PASSKEY_REJECTED: 'The passkey could not be registered: try again.',
  PASSKEY_NOT_FOUND: 'No such passkey.',
  EMAIL_NOT_VERIFIED: 'Confirm your email address first: open the link we sent you.',
  DB_UNAVAILABLE: 'Storage is unavailable. Nothing was lost; try again shortly.',
}

/**
 * A failure with a stable reason. Thrown anywhere in the server; the error
 * formatter turns it into the tRPC code of SPEC §3 with `data.reason`. Its
 * message is fixed per reason (or given by the caller), never a token or input.
 */
export class BreakwaterError extends TRPCError {
  readonly reason: BreakwaterReason
  /** Seconds the client should wait, for `RATE_LIMITED`. */
  readonly retryAfter: number | undefined

  constructor(
    reason: BreakwaterReason,
    options: { message?: string; retryAfter?: number; cause?: unknown } = {},
  ) {
    super({
      code: REASON_CODES[reason],
      message: options.message ?? MESSAGE[reason],
      cause: options.cause,
    })
    this.name = 'BreakwaterError'
    this.reason = reason
    this.retryAfter = options.retryAfter
  }
}

/** The `BreakwaterError` behind an error, walking tRPC's wrapping of thrown causes. */
export function breakwaterErrorOf(error: unknown): BreakwaterError | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof BreakwaterError) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
