import type { BreakwaterReason } from '@breakwater/protocol'
import { TRPCClientError } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'

export type { BreakwaterReason }

/**
 * Why a session ended on this client: a server reason that means "sign out",
 * or `LOGGED_OUT` when this client or a peer tab logged out on purpose.
 */
export type SessionEndReason =
  | 'SESSION_REVOKED'
  | 'SESSION_EXPIRED'
  | 'REFRESH_MISSING'
  | 'REFRESH_INVALID'
  | 'REFRESH_REUSED'
  | 'LOGGED_OUT'

/**
 * Every reason a {@link BreakwaterClientError} can carry: the server's, the
 * local `LOGGED_OUT`, and `REFRESH_UNAVAILABLE` when refreshing kept failing
 * on the network (not a sign-out: the session may well be alive).
 */
export type ClientReason = BreakwaterReason | 'LOGGED_OUT' | 'REFRESH_UNAVAILABLE'

const SESSION_END_REASONS: ReadonlySet<string> = new Set<SessionEndReason>([
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'REFRESH_MISSING',
  'REFRESH_INVALID',
  'REFRESH_REUSED',
  'LOGGED_OUT',
])

/** Whether a reason means the session is over and the client must sign out. */
export function isSessionEndReason(reason: unknown): reason is SessionEndReason {
  return typeof reason === 'string' && SESSION_END_REASONS.has(reason)
}

const HTTP_STATUS: Partial<Record<ClientReason, [code: string, status: number, rpc: number]>> = {
  REFRESH_UNAVAILABLE: ['SERVICE_UNAVAILABLE', 503, -32603],
}

/**
 * An error the client raises itself (rather than relays from a response).
 * It is a `TRPCClientError`, so code that handles tRPC errors keeps working,
 * and its `data.reason` is set like the server's, so {@link readReason} reads
 * both alike.
 *
 * @example
 * ```ts
 * try { await client.auth.me.query() }
 * catch (error) { if (error instanceof BreakwaterClientError) console.log(error.reason) }
 * ```
 */
export class BreakwaterClientError extends TRPCClientError<AnyRouter> {
  /** What went wrong, as a stable code. */
  readonly reason: ClientReason

  constructor(reason: ClientReason, message: string, options: { cause?: unknown } = {}) {
    const [code, httpStatus, rpc] = HTTP_STATUS[reason] ?? ['UNAUTHORIZED', 401, -32001]
    super(message, {
      result: { error: { message, code: rpc, data: { code, httpStatus, reason } } },
      ...(options.cause instanceof Error ? { cause: options.cause } : {}),
    })
    // TRPCClientError pins its own prototype in its constructor; restore ours.
    Object.setPrototypeOf(this, new.target.prototype)
    this.name = new.target.name
    this.reason = reason
  }
}

/**
 * The session is over: refreshing was refused (`REFRESH_*`, `SESSION_*`), a
 * call found the session ended, or a peer tab logged out. In cookie transport
 * a call that carried no session cookie at all (`TOKEN_MISSING`) rejects with
 * this too, as `REFRESH_MISSING`, without a refresh being tried. Every call that
 * was waiting on the failed refresh rejects with this; `onSessionExpired` has
 * been called once if there was a session to lose. Sign in again to continue.
 */
export class SessionExpiredError extends BreakwaterClientError {
  declare readonly reason: SessionEndReason

  constructor(reason: SessionEndReason, options: { cause?: unknown } = {}) {
    super(reason, SESSION_MESSAGES[reason], options)
  }
}

const SESSION_MESSAGES: Record<SessionEndReason, string> = {
  SESSION_REVOKED: 'The session has ended. Sign in again.',
  SESSION_EXPIRED: 'The session has expired. Sign in again.',
  REFRESH_MISSING: 'Not signed in.',
  REFRESH_INVALID: 'The session could not be renewed. Sign in again.',
  REFRESH_REUSED: 'The session was ended because its refresh token was used twice. Sign in again.',
  LOGGED_OUT: 'Signed out.',
}

/**
 * Refreshing failed on the network (or the server was unavailable) for every
 * retry. The session was not signed out; the call may be tried again later.
 */
export class RefreshUnavailableError extends BreakwaterClientError {
  declare readonly reason: 'REFRESH_UNAVAILABLE'

  constructor(options: { cause?: unknown } = {}) {
    super('REFRESH_UNAVAILABLE', 'Could not reach the server to renew the session.', options)
  }
}

/**
 * The Breakwater `reason` of an error (`TOKEN_EXPIRED`, `INVALID_CREDENTIALS`,
 * …), from a `TRPCClientError` the server sent or a {@link BreakwaterClientError};
 * `undefined` for anything else (a network failure, a validation error).
 *
 * @example
 * ```ts
 * if (readReason(error) === 'INVALID_CREDENTIALS') showWrongPassword()
 * ```
 */
export function readReason(error: unknown): ClientReason | undefined {
  if (error instanceof BreakwaterClientError) return error.reason
  if (typeof error !== 'object' || error === null) return undefined
  const data = (error as { data?: unknown }).data
  if (typeof data !== 'object' || data === null) return undefined
  const reason = (data as { reason?: unknown }).reason
  return typeof reason === 'string' ? (reason as ClientReason) : undefined
}
