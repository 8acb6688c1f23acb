import { readReason, type SessionEndReason, SessionExpiredError } from '@breakwater/client'

/** What the form was doing, for messages that depend on it. */
export type Context =
  | 'sign-in'
  | 'sign-up'
  | 'sign-in-code'
  | 'second-factor'
  | 'change-password'
  | 'change-email'
  | 'delete-account'
  | 'totp'
  | 'reauthenticate'
  | 'reauthenticate-passkey'
  | 'passkey'
  | 'passkey-sign-in'
  | 'passkey-second-factor'
  | 'revoke'
  | 'link'
  | 'other'

/** Forms that ask for the current password: a wrong one is about that field, not the account. */
const ASKS_CURRENT_PASSWORD: ReadonlySet<Context> = new Set([
  'change-password',
  'change-email',
  'delete-account',
])

/** Forms whose code comes from an authenticator app, not from an email. */
const APP_CODE: ReadonlySet<Context> = new Set(['second-factor', 'totp', 'reauthenticate'])

/** Shown for an unknown, used, replaced or expired mailed link (`LINK_INVALID`). */
export const LINK_INVALID_MESSAGE =
  'This link is invalid or has expired. Links work once, and only the newest one works: request a new one.'

/** `Retry-After` (whole seconds) of a failed call, when the server sent one. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const meta = (
    error as { meta?: { response?: { headers?: { get?(name: string): string | null } } } }
  )?.meta
  const value = meta?.response?.headers?.get?.('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : undefined
}

/** "45 seconds", "3 minutes", "1 minute 5 seconds". */
export function formatWait(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`
  if (seconds < 60) return plural(seconds, 'second')
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  return rest === 0
    ? plural(minutes, 'minute')
    : `${plural(minutes, 'minute')} ${plural(rest, 'second')}`
}

function firstIssue(error: unknown): { path: unknown[]; message: string } | undefined {
  const issues = (error as { data?: { issues?: unknown } })?.data?.issues
  if (!Array.isArray(issues) || issues.length === 0) return undefined
  return issues[0] as { path: unknown[]; message: string }
}

/** Contexts that asked the browser for a passkey: what a cancelled ceremony left unchanged. */
const CANCELLED_PASSKEY: Partial<Record<Context, string>> = {
  passkey: 'No passkey was added: the request was cancelled or timed out. Nothing changed.',
  'passkey-sign-in':
    'The passkey request was cancelled or timed out, so you are not signed in. Try again, or use your password.',
  'passkey-second-factor':
    'The passkey request was cancelled or timed out. Try again, or enter a code instead.',
  'reauthenticate-passkey':
    'The passkey request was cancelled or timed out. Try again, or confirm with your password.',
}

/** The errors `navigator.credentials` rejects with (DOMExceptions, or an abort's reason). */
const CEREMONY_ERRORS = new Set([
  'NotAllowedError',
  'AbortError',
  'InvalidStateError',
  'NotSupportedError',
  'SecurityError',
  'ConstraintError',
  'UnknownError',
])

function isCeremonyError(error: unknown): error is Error {
  return (
    error instanceof DOMException || (error instanceof Error && CEREMONY_ERRORS.has(error.name))
  )
}

/**
 * What the browser said when a passkey ceremony failed before reaching the
 * server (see webauthn.ts): nothing was sent, so nothing changed.
 */
function describeCeremony(error: Error, context: Context): string {
  switch (error.name) {
    case 'NotAllowedError':
    case 'AbortError':
      return (
        CANCELLED_PASSKEY[context] ?? 'The passkey request was cancelled or timed out. Try again.'
      )
    case 'InvalidStateError':
      return 'This device already holds a passkey for this account: use another device or security key.'
    case 'NotSupportedError':
      return 'This browser or device cannot use passkeys here. Use your password instead.'
    case 'SecurityError':
      return 'Passkeys do not work at this address (the app must be opened at its own domain name, not an IP address).'
    default:
      return 'The browser could not use a passkey. Try again.'
  }
}

/** A failed call, in words a person can act on. */
export function describeError(error: unknown, context: Context): string {
  if (isCeremonyError(error)) return describeCeremony(error, context)
  const reason = readReason(error)
  switch (reason) {
    case 'INVALID_CREDENTIALS':
      // A passkey the server did not accept: unknown, removed, or not this user's.
      if (context === 'passkey-sign-in')
        return 'This passkey was not accepted: it is not, or no longer, registered here. Sign in with your password.'
      if (context === 'passkey-second-factor')
        return 'This passkey was not accepted, or this sign-in has expired: try again, or start again with your password.'
      if (context === 'reauthenticate-passkey')
        return 'This passkey was not accepted. Use another one, or confirm with your password.'
      if (ASKS_CURRENT_PASSWORD.has(context)) return 'The current password is wrong.'
      // A code is refused with this reason too (SPEC §9): wrong, used, expired or out of attempts.
      if (context === 'sign-in-code') return 'That code is wrong or has expired. Request a new one.'
      if (context === 'second-factor')
        return 'That code is wrong, or this sign-in has expired: after 5 tries, start again with your password.'
      // A TOTP code works once (SPEC §10): a used one is refused like a wrong one.
      if (context === 'totp')
        return 'That code is wrong or was used already. Enter the current code from your authenticator app.'
      if (context === 'reauthenticate') return 'That password or code is wrong.'
      return 'Wrong email or password.'
    case 'LINK_INVALID':
      return LINK_INVALID_MESSAGE
    case 'REAUTH_REQUIRED':
      // What is left when the re-authentication dialog was cancelled (components/reauth-dialog.tsx).
      return 'For your security, this needs you to confirm it is you. Nothing changed: try again, and enter your password when asked.'
    case 'MFA_ALREADY_ENABLED':
      return 'An authenticator app is already set up.'
    case 'PASSKEY_REJECTED':
      return 'The passkey could not be added (it may be registered already, or the account holds as many passkeys as it may). Nothing changed.'
    case 'PASSKEY_NOT_FOUND':
      return 'That passkey is no longer on this account: it was removed, maybe on another device.'
    case 'EMAIL_NOT_VERIFIED':
      return 'Verify your email address first: open the link in the email we sent you.'
    case 'DELETION_REJECTED':
      return 'Your account could not be deleted right now. Nothing was changed; try again later or contact support.'
    case 'RATE_LIMITED': {
      const wait = retryAfterSeconds(error)
      return wait === undefined
        ? 'Too many attempts. Wait a while, then try again.'
        : `Too many attempts. Try again in ${formatWait(wait)}.`
    }
    case 'WEAK_PASSWORD':
      return 'That password is too weak: use 12 to 256 characters, and not a common password.'
    case 'EMAIL_TAKEN':
      // A change request names another account's address with no error (no enumeration):
      // only the caller's own address, or a race before the link is opened, says this.
      if (context === 'change-email') return 'That is already your email address.'
      if (context === 'link')
        return 'That address belongs to another account now, so yours did not change.'
      return 'An account with this email already exists. Sign in instead.'
    case 'CSRF_REJECTED':
      return 'The server refused the request as cross-site. Reload the page and try again.'
    case 'SESSION_NOT_FOUND':
      return 'That session no longer exists.'
    case 'DB_UNAVAILABLE':
      return 'The server cannot reach its storage right now. Try again shortly.'
    case 'REFRESH_UNAVAILABLE':
      return 'Could not reach the server to renew the session. Check the connection.'
    case undefined:
      break
    default:
      if (isEnd(reason)) return endMessage(reason)
  }
  const issue = firstIssue(error)
  if (issue) {
    const field = issue.path[0]
    if (field === 'email' || field === 'newEmail') return 'Enter a valid email address.'
    if (field === 'currentPassword') return 'Enter your current password.'
    if (field === 'password' || field === 'newPassword') return 'Enter a password.'
    if (field === 'name')
      return 'Give the passkey a name of at most 64 characters (letters, digits, spaces, punctuation).'
    if (field === 'code')
      return APP_CODE.has(context)
        ? 'Enter the 6-digit code from your authenticator app.'
        : 'Enter the 6-digit code from the email.'
    // The server refuses a malformed token before looking it up: to the reader, the same broken link.
    if (field === 'token') return LINK_INVALID_MESSAGE
    return `Check the form: ${issue.message}`
  }
  if (error instanceof TypeError) return 'Could not reach the server. Check the connection.'
  return 'Something went wrong. Try again.'
}

/**
 * What a signed-in card says about a failed call: nothing when the session is
 * over, since the page then gives way to the sign-in form, which says why.
 */
export function describeFailure(error: unknown, context: Context): string | undefined {
  return error instanceof SessionExpiredError ? undefined : describeError(error, context)
}

function isEnd(reason: string): reason is SessionEndReason {
  return /^(SESSION_|REFRESH_)|^LOGGED_OUT$/.test(reason)
}

/** Why this tab is back at the sign-in form. */
export function endMessage(reason: SessionEndReason): string {
  switch (reason) {
    case 'LOGGED_OUT':
      return 'You signed out in another tab.'
    case 'SESSION_REVOKED':
      return 'This session was ended (signed out elsewhere). Sign in again.'
    case 'SESSION_EXPIRED':
      return 'Your session expired. Sign in again.'
    case 'REFRESH_REUSED':
      return 'This session was ended because its credentials were used twice. Sign in again.'
    default:
      return 'Your session ended. Sign in again.'
  }
}
