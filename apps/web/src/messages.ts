import { readReason, type SessionEndReason } from '@breakwater/client'

/** What the form was doing, for messages that depend on it. */
export type Context = 'sign-in' | 'sign-up' | 'change-password' | 'revoke' | 'other'

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

/** A failed call, in words a person can act on. */
export function describeError(error: unknown, context: Context): string {
  const reason = readReason(error)
  switch (reason) {
    case 'INVALID_CREDENTIALS':
      return context === 'change-password'
        ? 'The current password is wrong.'
        : 'Wrong email or password.'
    case 'RATE_LIMITED': {
      const wait = retryAfterSeconds(error)
      return wait === undefined
        ? 'Too many attempts. Wait a while, then try again.'
        : `Too many attempts. Try again in ${formatWait(wait)}.`
    }
    case 'WEAK_PASSWORD':
      return 'That password is too weak: use 12 to 256 characters, and not a common password.'
    case 'EMAIL_TAKEN':
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
    if (issue.path[0] === 'email') return 'Enter a valid email address.'
    if (issue.path[0] === 'password' || issue.path[0] === 'newPassword') return 'Enter a password.'
    return `Check the form: ${issue.message}`
  }
  if (error instanceof TypeError) return 'Could not reach the server. Check the connection.'
  return 'Something went wrong. Try again.'
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
