import { readReason, SessionExpiredError } from '@breakwater/client'
import { UsageError } from './prompt.js'

/** No credentials, or they no longer work. */
export class NotSignedIn extends Error {
  constructor() {
    super('Not signed in. Run: breakwater login --email <email>')
    this.name = 'NotSignedIn'
  }
}

/**
 * A failure said in the command's own terms (a wrong current password, a
 * confirmation that did not match): one line, exit code 1.
 */
export class CommandError extends Error {
  override name = 'CommandError'
}

/** What a mailed link that cannot be used gets: unknown, used, replaced or expired look alike. */
export const LINK_INVALID_MESSAGE = 'This link is invalid, used or expired. Ask for a new one.'

const REASON_MESSAGES: Partial<Record<string, string>> = {
  INVALID_CREDENTIALS: 'Wrong email or password.',
  TOKEN_MISSING: 'Not signed in. Run: breakwater login --email <email>',
  TOKEN_INVALID:
    'The stored credentials are not valid for this server. Run: breakwater login --email <email>',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  EMAIL_TAKEN: 'An account with this email already exists.',
  WEAK_PASSWORD: 'The password is too weak: use 12 to 256 characters, not a common password.',
  SESSION_NOT_FOUND: 'No such session.',
  LINK_INVALID: LINK_INVALID_MESSAGE,
  EMAIL_NOT_VERIFIED:
    'Confirm your email address first: open the link we mailed you, or run breakwater verify <link>.',
  DB_UNAVAILABLE: 'The server cannot reach its database. Try again shortly.',
  REFRESH_UNAVAILABLE: 'Cannot reach the server to renew the session.',
  // The step-up prompt got no password (stdin ended, or the prompt was cancelled): nothing changed.
  REAUTH_REQUIRED:
    'This change needs you to confirm it is you: run the command again and enter your password when asked.',
  MFA_ALREADY_ENABLED:
    'Two-factor sign-in is already on. To set up another app, run breakwater mfa disable first.',
}

/**
 * Awaits a call and, for the reasons given, replaces the server's message with
 * one that fits the command (the same `INVALID_CREDENTIALS` means a wrong
 * password in `delete-account` and a wrong code in `login --code`).
 */
export async function rephrase<T>(
  call: Promise<T>,
  messages: Partial<Record<string, string>>,
): Promise<T> {
  try {
    return await call
  } catch (error) {
    const message = messages[readReason(error) ?? '']
    throw message ? new CommandError(message, { cause: error }) : error
  }
}

function networkCause(error: unknown): string | undefined {
  // undici wraps the system error: TypeError('fetch failed') → cause { code: 'ECONNREFUSED' }.
  let fallback: string | undefined
  let current: unknown = error
  for (let depth = 0; depth < 6 && current; depth++) {
    const code = (current as { code?: unknown }).code
    if (
      typeof code === 'string' &&
      /^(E[A-Z]+|UND_ERR\w*)$/.test(code) &&
      code !== 'ERR_PARSE_ARGS'
    )
      return code
    if (current instanceof TypeError && current.message === 'fetch failed')
      fallback = 'fetch failed'
    current = (current as { cause?: unknown }).cause
  }
  return fallback
}

/**
 * One line for the user and an exit code, for any error: never a stack trace,
 * and never a token or password (server messages are fixed per reason; ours
 * name no secret).
 */
export function describe(error: unknown, server: string): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: 2 }
  if ((error as { code?: unknown })?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
    return { message: `${(error as Error).message}. See: breakwater --help`, exitCode: 2 }
  }
  if (error instanceof NotSignedIn || error instanceof CommandError)
    return { message: error.message, exitCode: 1 }
  if (error instanceof SessionExpiredError) {
    return {
      message: `${error.message.replace(/\.$/, '')}: run breakwater login --email <email>`,
      exitCode: 1,
    }
  }
  const network = networkCause(error)
  if (network)
    return { message: `Cannot reach the Breakwater server at ${server} (${network}).`, exitCode: 1 }
  const reason = readReason(error)
  const known = reason ? REASON_MESSAGES[reason] : undefined
  if (known) return { message: known, exitCode: 1 }
  const data = (error as { data?: { httpStatus?: number } }).data
  if (data?.httpStatus === 400)
    return { message: `Invalid input: ${(error as Error).message}`, exitCode: 1 }
  if (error instanceof Error && error.message) return { message: error.message, exitCode: 1 }
  return { message: 'Unexpected error.', exitCode: 1 }
}
