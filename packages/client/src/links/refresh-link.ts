import {
  type Operation,
  type OperationResultEnvelope,
  type OperationResultObservable,
  TRPCClientError,
  type TRPCLink,
} from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable, type Unsubscribable } from '@trpc/server/observable'
import type { BreakwaterAuth } from '../auth.js'
import { readReason, SessionExpiredError } from '../errors.js'

/**
 * The paths the link treats apart, under the client's namespace: calls that
 * sign in, refresh or sign out are never refreshed around and their results
 * update the session; `me` tells the session's expiry.
 */
interface SessionPaths {
  signIn: ReadonlySet<string>
  /** Sign-ins whose result carries tokens only when asked for `transport: 'bearer'`. */
  withTransport: ReadonlySet<string>
  logout: string
  logoutAll: string
  deleteAccount: string
  reauthenticate: string
  me: string
}

function sessionPaths(auth: BreakwaterAuth): SessionPaths {
  const { register, login, signInWithCode, verifySecondFactor, loginWithPasskey, refresh } =
    auth.paths
  const signIns = [login, register, signInWithCode, verifySecondFactor, loginWithPasskey]
  return {
    signIn: new Set([...signIns, refresh]),
    withTransport: new Set(signIns),
    logout: auth.paths.logout,
    logoutAll: auth.paths.logoutAll,
    deleteAccount: auth.paths.deleteAccount,
    reauthenticate: auth.paths.reauthenticate,
    me: auth.paths.me,
  }
}

function dataOf(envelope: OperationResultEnvelope<unknown, unknown>): unknown {
  const result = envelope.result as { data?: unknown }
  return result.data
}

function asClientError(error: unknown): TRPCClientError<AnyRouter> {
  return error instanceof TRPCClientError ? error : TRPCClientError.from(error as Error)
}

/**
 * The refresh link: put it before your terminating HTTP link.
 *
 * - A call that fails with `TOKEN_EXPIRED` (or, in bearer transport, with
 *   `TOKEN_MISSING` while a refresh token is stored) waits for one refresh and
 *   is replayed once. Calls that fail together share that refresh
 *   (single-flight per {@link BreakwaterAuth}, like jose's remote JWKS
 *   reload): 50 expired calls cause one `auth.refresh`, then 50 replays.
 * - Cookie transport: `TOKEN_MISSING` means no session cookies at all (the
 *   access cookie lives as long as the refresh cookie, SPEC §5), so the call
 *   rejects with {@link SessionExpiredError} (`REFRESH_MISSING`) and the
 *   client is signed out, without an `auth.refresh` request.
 * - Shortly before the access token expires, the next call refreshes first.
 * - When the refresh is refused (`REFRESH_*`, `SESSION_*`), `onSessionExpired`
 *   runs once and every waiting call rejects with {@link SessionExpiredError};
 *   nothing is retried. Network failures during refresh are retried with
 *   backoff and never sign out.
 * - Sign-in results (`login`, `register`, `signInWithCode`, `loginWithPasskey`; bearer: `tokens`;
 *   cookie: `session.accessTokenExpiresAt`) are kept; `auth.logout` forgets the
 *   session locally whatever the server said, `auth.deleteAccount` once it succeeded.
 *
 * @example
 * ```ts
 * const auth = createBreakwaterAuth({ url, transport: 'bearer' })
 * const client = createTRPCClient<AppRouter>({
 *   links: [refreshLink(auth), httpBatchLink({ url, headers: auth.headers, fetch: auth.fetch })],
 * })
 * ```
 */
export function refreshLink<TRouter extends AnyRouter = AnyRouter>(
  auth: BreakwaterAuth,
): TRPCLink<TRouter> {
  // Once per link, not per call: the namespace is fixed when the auth is made.
  const paths = sessionPaths(auth)
  return () =>
    ({ op, next }) => {
      if (op.type === 'subscription') return next(op)
      if (paths.signIn.has(op.path) || op.path === paths.logout || op.path === paths.logoutAll) {
        return sessionCall(auth, paths, op, next)
      }
      // Refreshed around like any call (they need a live access token); their
      // results then end the session, or bring a fresh access token (step-up).
      const endsSession = op.path === paths.deleteAccount
      const renewsAccess = op.path === paths.reauthenticate
      return observable((observer) => {
        let subscription: Unsubscribable | undefined
        let disposed = false
        let replayed = false
        let reauthenticated = false
        // The end a deletion causes reaches the live stream and peer tabs too: it is no expiry.
        const release = endsSession ? auth.endingOnPurpose() : () => {}
        const fail = (error: unknown) => {
          release()
          if (!disposed) observer.error(asClientError(error) as TRPCClientError<TRouter>)
        }

        // The caller sees a result that ends the session only once the session is forgotten.
        let forgotten: Promise<unknown> = Promise.resolve()
        const send = () => {
          if (disposed) return
          const generation = auth.generation
          subscription = next(op).subscribe({
            next(envelope) {
              if (op.path === paths.me) auth.observeSession(dataOf(envelope))
              if (!endsSession && !renewsAccess) return observer.next(envelope)
              const update = endsSession ? auth.signOut() : auth.signedIn(op.path, dataOf(envelope))
              forgotten = update.then(() => {
                if (!disposed) observer.next(envelope)
              }, fail)
            },
            complete() {
              void forgotten.then(() => {
                release()
                if (!disposed) observer.complete()
              })
            },
            error(error) {
              release()
              const reason = readReason(error)
              if (reason === 'SESSION_REVOKED' || reason === 'SESSION_EXPIRED') {
                void auth.sessionEnded(reason)
                return fail(new SessionExpiredError(reason, { cause: error }))
              }
              if (reason === 'REAUTH_REQUIRED' && !reauthenticated && !renewsAccess) {
                // Step-up: the app proves a factor again (its dialog), then this call runs once more.
                reauthenticated = true
                return void auth
                  .reauthenticated()
                  .then((done) => (done ? send() : observer.error(error)), fail)
              }
              if (reason !== 'TOKEN_EXPIRED' && reason !== 'TOKEN_MISSING') {
                return observer.error(error)
              }
              // Credentials changed while this call was out (a refresh, a sign-in, a sign-out).
              const stale = generation !== auth.generation
              // The session ended (while this call was out, or before: a logout, a peer
              // tab, the live stream): say so in the typed error, not as a bare TOKEN_MISSING.
              const ended = auth.endedError()
              if (ended) return fail(new SessionExpiredError(ended.reason, { cause: error }))
              if (reason === 'TOKEN_MISSING' && auth.transport === 'cookie') {
                // The access cookie lives as long as the refresh cookie (SPEC §5): none
                // sent means no session here, and a refresh could only say REFRESH_MISSING.
                if (!stale) return fail(auth.sessionMissing(error))
                if (replayed) return observer.error(error)
                // Sent before a sign-in (or a peer's refresh) landed: the cookies are here now.
                replayed = true
                return send()
              }
              if (replayed || !auth.canRefresh()) return observer.error(error)
              replayed = true
              auth.refreshIfStale(generation).then(send, fail)
            },
          })
        }

        const start = () => {
          if (disposed) return
          if (!auth.refreshDue()) return send()
          // Proactive: refresh first. If that fails on the network the token may still be good; try the call.
          auth
            .refresh()
            .then(send, (error) => (error instanceof SessionExpiredError ? fail(error) : send()))
        }

        const ready = auth.ready()
        if (ready) ready.then(start, fail)
        else start()

        return () => {
          disposed = true
          release()
          subscription?.unsubscribe()
        }
      })
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sign-in, refresh and sign-out calls: pass through, then update the session before the caller sees the result. */
function sessionCall<TRouter extends AnyRouter>(
  auth: BreakwaterAuth,
  paths: SessionPaths,
  original: Operation,
  next: (op: Operation) => OperationResultObservable<TRouter, unknown>,
): OperationResultObservable<TRouter, unknown> {
  let op = original
  const path = op.path
  if (auth.transport === 'bearer' && paths.withTransport.has(path)) {
    // The bearer transport needs tokens in the result; ask for them unless the caller chose.
    if (isPlainObject(op.input) && op.input.transport === undefined) {
      op = { ...op, input: { ...op.input, transport: 'bearer' } }
    }
  }
  const endsCurrent =
    path === paths.logout ||
    (path === paths.logoutAll && !(isPlainObject(op.input) && op.input.keepCurrent === true))

  return observable<
    OperationResultEnvelope<unknown, TRPCClientError<TRouter>>,
    TRPCClientError<TRouter>
  >((observer) => {
    // The end this call causes reaches the live stream and peer tabs too: it is no expiry.
    const release = endsCurrent ? auth.endingOnPurpose() : () => {}
    let disposed = false
    // Results wait for the store write (a CLI may exit right after login resolves).
    let chain: Promise<unknown> = auth.ready() ?? Promise.resolve()
    const then = (step: () => unknown) => {
      chain = chain.then(step).catch((error) => {
        if (!disposed) observer.error(asClientError(error) as TRPCClientError<TRouter>)
        disposed = true
      })
    }
    let subscription: Unsubscribable | undefined
    then(() => {
      if (disposed) return
      subscription = next(op).subscribe({
        next(envelope) {
          // The caller's promise settles on this first value, so the session is updated before it.
          then(async () => {
            if (paths.signIn.has(path)) await auth.signedIn(path, dataOf(envelope))
            if (endsCurrent) await auth.signOut()
            if (!disposed) observer.next(envelope)
          })
        },
        complete() {
          then(() => {
            release()
            if (!disposed) observer.complete()
          })
        },
        error(error) {
          then(async () => {
            // Signing out is the user's wish: forget the session here even if the server could not be told.
            if (endsCurrent && path === paths.logout) await auth.signOut()
            release()
            if (!disposed) observer.error(error)
          })
        },
      })
    })
    return () => {
      disposed = true
      release()
      subscription?.unsubscribe()
    }
  })
}
