import type { HTTPHeaders, Operation } from '@trpc/client'
import { type Clock, isClock, systemClock } from './clock.js'
import {
  type CoordinationOptions,
  canCoordinate,
  type RefreshOutcome,
  TabCoordinator,
} from './coordination/broadcast.js'
import {
  BreakwaterClientError,
  isSessionEndReason,
  RefreshUnavailableError,
  type SessionEndReason,
  SessionExpiredError,
} from './errors.js'
import { endReasonOf, LiveSession, type RefusalDecision } from './live/session-stream.js'
import { type ProcedurePaths, resolvePaths } from './procedure-paths.js'
import { memoryTokenStore } from './store/memory.js'
import type { TokenStore } from './store/types.js'
import { resolveTransformer, type TransformerOption } from './transformer.js'
import { bearerTransport } from './transport/bearer.js'
import { cookieTransport } from './transport/cookie.js'
import type { Transport } from './transport/types.js'
import { expiryOfResult, type FetchEsque, RefreshRejected } from './wire.js'

/** Refresh this long before the access token expires, at most (a quarter of its lifetime for short ones). */
const DEFAULT_MARGIN_MS = 30_000

/** What `onSessionExpired` is told. */
export interface SessionExpiredEvent {
  /** Why, as the client says it (`SESSION_REVOKED`, `LOGGED_OUT`, …). */
  reason: SessionEndReason
  /**
   * The server's own reason when the live stream brought the news (`logout`,
   * `logout_all`, `user_revoked`, `password_changed`, `password_reset`, `reuse`,
   * `account_deleted`, `expired`): say "your password was changed" rather
   * than "signed out". `undefined` when a call or a refresh found the end.
   */
  revocation?: string
}

/** The session as this client knows it: what {@link BreakwaterAuth.subscribe} listeners get. */
export interface SessionSnapshot {
  /** `unknown` until a call tells (cookie transport: the cookies are HttpOnly), then `signed-in` or `signed-out`. */
  readonly state: 'unknown' | 'signed-in' | 'signed-out'
  /** When the current access token expires, if known (signed in). */
  readonly accessTokenExpiresAt: Date | undefined
  /** Why the session ended (signed out): `LOGGED_OUT`, `SESSION_REVOKED`, `REFRESH_MISSING` (no session), … */
  readonly reason: SessionEndReason | undefined
  /** The server's reason for the end (`password_changed`, …), when the live stream told (see {@link SessionExpiredEvent}). */
  readonly revocation: string | undefined
}

/** Options of {@link createBreakwaterAuth} (and of `createBreakwaterClient`). */
export interface BreakwaterAuthOptions {
  /** The tRPC endpoint, e.g. `https://example.com/trpc`. */
  url: string
  /** `cookie` in browsers (HttpOnly cookies, never a token in JS); `bearer` in Node, CLIs and mobile apps. */
  transport: 'cookie' | 'bearer'
  /**
   * The key Breakwater's router sits under in your router, when it is not
   * the root: `'account'` for `t.router({ account: breakwaterRouter })`, whose
   * procedures are `account.auth.login`, `account.auth.refresh`, …; dotted for
   * deeper nesting (`'v1.account'`). Default: none (`auth.*` at the root).
   */
  namespace?: string
  /**
   * Your tRPC instance's data transformer (`initTRPC.create({ transformer })`),
   * such as `superjson`: the refresh request encodes its input and decodes its
   * answer with it, and `createBreakwaterClient` hands it to its HTTP link.
   * Default: none (plain JSON).
   */
  transformer?: TransformerOption
  /** Bearer transport: where tokens live. Default: in memory. Node: `fileTokenStore` from `@breakwater/client/node`. */
  store?: TokenStore
  /**
   * A fetch to use instead of the global one (a cookie jar in Node tests, a
   * custom agent): anything tRPC's HTTP links take (`window.fetch`, undici's,
   * a wrapper). The live stream needs one whose response bodies stream (`getReader()`).
   */
  fetch?: FetchEsque
  /**
   * Called once when the session is over: a refresh was refused (`REFRESH_*`,
   * `SESSION_*`), a call found the session revoked, a peer tab signed out, or
   * (cookie transport) a call found the session's cookies gone
   * (`REFRESH_MISSING`). Not called for this client's own `auth.logout`, nor
   * when there was no session to lose (a first visit without cookies). With
   * `live`, also the moment the session ends anywhere else (`revocation` says why).
   */
  onSessionExpired?: (event: SessionExpiredEvent) => void
  /**
   * Step-up (SPEC §10): a call was refused with `REAUTH_REQUIRED`. Ask the user to
   * prove it is them (a dialog that calls `auth.reauthenticate`) and resolve `true`
   * once done: the call is then retried, once. Resolve `false` to let it fail.
   * Calls refused together share one prompt. Unset: the call fails.
   */
  onReauthRequired?: () => boolean | Promise<boolean>
  /**
   * Refresh proactively when the access token expires within this many ms.
   * Default: 30 s, or a quarter of the token's lifetime when that is shorter.
   */
  refreshMargin?: number
  /** Backoff for refreshes that fail on the network or with a 5xx/429. Default 5 retries, 200 ms doubling to 5 s. */
  refreshRetry?: { retries?: number; baseDelayMs?: number; maxDelayMs?: number }
  /**
   * Cookie transport: share refreshes and sign-outs between tabs (BroadcastChannel,
   * plus Web Locks where available). Default: on in browsers, off elsewhere.
   */
  coordination?: boolean | CoordinationOptions
  /**
   * Learn the moment the session ends, wherever it ends (a logout in another
   * browser, `sessions.revoke`, `logoutAll`, a password change or reset, a
   * reused refresh token), without polling: while signed in, keep one
   * `sessions.watch` stream (Server-Sent Events over fetch) open. In browsers
   * one tab streams for all (Web Locks; the next tab takes over when it
   * closes) and the cross-tab channel signs the others out, with no request
   * of their own. On the end: `onSessionExpired({ reason, revocation })`, state
   * `signed-out`, the stream closed. It survives access-token expiry (a
   * reconnect refreshes first, single-flight) and reconnects with jittered
   * backoff (0.5 s doubling to 30 s) after a network failure or a server restart.
   *
   * Default: on with the cookie transport in browsers (where `document`
   * exists), off elsewhere. Bearer transport (Node ≥ 20, any runtime whose
   * fetch streams) may turn it on; `close()` then ends the stream, which
   * otherwise keeps a Node process alive.
   */
  live?: boolean
  /**
   * The time and timers the client uses (proactive refresh, refresh backoff,
   * cross-tab coordination, the live stream's backoff). Default: the real ones.
   * For tests that move time instead of waiting for it.
   */
  clock?: Clock
}

type AuthState = 'unknown' | 'signed-in' | 'signed-out'

function misuse(message: string): TypeError {
  return new TypeError(`@breakwater/client: ${message}`)
}

/**
 * The session state one or more clients share: credentials (through the
 * transport), the single in-flight refresh, the proactive-refresh deadline,
 * and whether the session has ended. {@link refreshLink} and the HTTP link's
 * `headers`/`fetch` read it; build one with {@link createBreakwaterAuth}.
 */
export class BreakwaterAuth {
  /** The tRPC endpoint. */
  readonly url: string
  /** `cookie` or `bearer`. */
  readonly transport: 'cookie' | 'bearer'
  /** The paths of Breakwater's procedures, under the `namespace` option if one was given. */
  readonly paths: ProcedurePaths
  /** The `transformer` option as given: pass it to your HTTP link too. */
  readonly transformer: TransformerOption | undefined
  /**
   * Pass to the HTTP link (`fetch: auth.fetch`): cookie transport sends cookies
   * (`credentials: 'include'`); otherwise the `fetch` option, if given. Typed
   * as tRPC's `FetchEsque`, so it fits `httpLink`/`httpBatchLink` as it is.
   */
  readonly fetch: FetchEsque | undefined
  /**
   * Pass to the HTTP link as `headers`: `Authorization: Bearer …` in bearer
   * transport, `x-breakwater-csrf: 1` on mutations in cookie transport. Works
   * with `httpLink` (`{op}`) and `httpBatchLink` (`{opList}`).
   */
  readonly headers: (opts: {
    op?: Operation
    opList?: readonly Operation[]
  }) => HTTPHeaders | Promise<HTTPHeaders>

  readonly #transport: Transport
  readonly #onSessionExpired: ((event: SessionExpiredEvent) => void) | undefined
  readonly #onReauthRequired: (() => boolean | Promise<boolean>) | undefined
  #reauthInflight: Promise<boolean> | undefined
  readonly #margin: number | undefined
  readonly #retries: number
  readonly #baseDelay: number
  readonly #maxDelay: number
  readonly #coordinator: TabCoordinator | undefined
  readonly #clock: Clock
  readonly #live: LiveSession | undefined
  readonly #listeners = new Set<(snapshot: SessionSnapshot) => void>()
  #snapshot: SessionSnapshot = Object.freeze({
    state: 'unknown',
    accessTokenExpiresAt: undefined,
    reason: undefined,
    revocation: undefined,
  })
  /** Calls in flight that end this session on purpose (logout, deleteAccount): their end is no news. */
  #endingOnPurpose = 0
  #state: AuthState = 'unknown'
  #endReason: SessionEndReason = 'REFRESH_MISSING'
  #revocation: string | undefined
  #generation = 0
  #inflight: Promise<void> | undefined
  #expiresAt: number | undefined
  #refreshAt = Number.POSITIVE_INFINITY
  #loading: Promise<void> | undefined
  #loaded: boolean

  constructor(options: BreakwaterAuthOptions) {
    if (typeof options !== 'object' || options === null) throw misuse('options are required')
    const { url, transport } = options
    if (typeof url !== 'string' || !/^https?:\/\/|^\//.test(url))
      throw misuse(`url must be an http(s) URL, got ${JSON.stringify(url)}`)
    if (transport !== 'cookie' && transport !== 'bearer')
      throw misuse('transport must be "cookie" or "bearer"')
    if (options.store !== undefined && transport !== 'bearer')
      throw misuse('store is for the bearer transport only')
    if (options.coordination && transport !== 'cookie') {
      throw misuse(
        'coordination is for the cookie transport (tabs share cookies, not token stores)',
      )
    }
    if (options.live !== undefined && typeof options.live !== 'boolean')
      throw misuse('live must be true or false')
    if (options.refreshMargin !== undefined && !(options.refreshMargin >= 0))
      throw misuse('refreshMargin must be ≥ 0 ms')
    const retry = options.refreshRetry ?? {}
    this.#retries = retry.retries ?? 5
    this.#baseDelay = retry.baseDelayMs ?? 200
    this.#maxDelay = retry.maxDelayMs ?? 5000
    if (!Number.isInteger(this.#retries) || this.#retries < 0)
      throw misuse('refreshRetry.retries must be a whole number ≥ 0')
    if (options.clock !== undefined && !isClock(options.clock))
      throw misuse('clock must have now(), setTimeout() and clearTimeout() methods')
    this.#clock = options.clock ?? systemClock
    this.paths = resolvePaths(options.namespace)
    const transformer = resolveTransformer(options.transformer)

    this.url = url.replace(/\/+$/, '')
    this.transport = transport
    this.transformer = options.transformer
    this.#margin = options.refreshMargin
    this.#onSessionExpired = options.onSessionExpired
    if (options.onReauthRequired !== undefined && typeof options.onReauthRequired !== 'function')
      throw misuse('onReauthRequired must be a function')
    this.#onReauthRequired = options.onReauthRequired
    this.#transport =
      transport === 'bearer'
        ? bearerTransport({
            url: this.url,
            refreshPath: this.paths.refresh,
            transformer,
            store: options.store ?? memoryTokenStore(),
            fetch: options.fetch,
            clock: this.#clock,
          })
        : cookieTransport({
            url: this.url,
            refreshPath: this.paths.refresh,
            transformer,
            fetch: options.fetch,
          })
    this.fetch = this.#transport.fetch
    // Cookie transport has nothing to load; bearer reads its store before the first call.
    this.#loaded = transport === 'cookie'

    const wantsCoordination =
      options.coordination ??
      (transport === 'cookie' &&
        typeof (globalThis as { document?: unknown }).document === 'object')
    if (wantsCoordination && canCoordinate()) {
      const settings = typeof wantsCoordination === 'object' ? wantsCoordination : {}
      this.#coordinator = new TabCoordinator(
        settings.channel ?? `breakwater:${this.url}`,
        {
          refreshed: (expiresAt) => this.#adopt(expiresAt),
          ended: (reason, revocation) =>
            this.#end(reason, { notify: true, broadcast: false, revocation }),
          signedIn: (expiresAt) => {
            this.#adopt(expiresAt)
            // Maybe another user, or a new session: the stream must watch the one the cookies hold now.
            this.#live?.renew()
          },
        },
        settings,
        this.#clock,
      )
    }

    const isBrowser = typeof (globalThis as { document?: unknown }).document === 'object'
    if (options.live ?? (transport === 'cookie' && isBrowser)) {
      const channel =
        typeof wantsCoordination === 'object' && wantsCoordination.channel
          ? wantsCoordination.channel
          : `breakwater:${this.url}`
      this.#live = new LiveSession(this.#liveHost(transformer.deserialize), {
        // One stream per browser when tabs coordinate; each client on its own otherwise.
        lockName:
          this.#coordinator &&
          !(typeof wantsCoordination === 'object' && wantsCoordination.locks === false)
            ? `breakwater-live:${channel}`
            : undefined,
        clock: this.#clock,
      })
    }

    const transportRef = this.#transport
    this.headers = (opts) => {
      const ops = opts.opList ?? (opts.op ? [opts.op] : [])
      let isMutation = false
      for (const op of ops) if (op.type === 'mutation') isMutation = true
      const headers = transportRef.headers(
        isMutation,
        ops.length === 1 ? [ops[0]!.path] : ops.map((op) => op.path),
      )
      return this.#loaded
        ? headers
        : this.ready()!.then(() =>
            transportRef.headers(
              isMutation,
              ops.map((op) => op.path),
            ),
          )
    }
  }

  /** `unknown` until a call tells, then `signed-in` or `signed-out`. */
  get state(): AuthState {
    return this.#state
  }

  /**
   * The session as this client knows it now: the same object until something
   * changes, so it serves as `useSyncExternalStore`'s `getSnapshot`.
   */
  get snapshot(): SessionSnapshot {
    return this.#snapshot
  }

  /**
   * Calls `listener` with the new {@link SessionSnapshot} whenever the state,
   * the access token's expiry or the end reason changes: a sign-in, a refresh,
   * a sign-out here or in a peer tab, the live stream's news. Returns a
   * function that unsubscribes. A listener that throws does not stop the others.
   *
   * @example
   * ```ts
   * const stop = auth.subscribe(({ state, reason }) => {
   *   if (state === 'signed-out') showSignIn(reason)
   * })
   * // React: useSyncExternalStore(auth.subscribe, () => auth.snapshot)
   * ```
   */
  readonly subscribe = (listener: (snapshot: SessionSnapshot) => void): (() => void) => {
    if (typeof listener !== 'function') throw misuse('subscribe needs a listener function')
    // Wrapped, so the same function subscribed twice is two subscriptions.
    const entry = (snapshot: SessionSnapshot) => listener(snapshot)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  /** When the current access token expires, if known. */
  get accessTokenExpiresAt(): Date | undefined {
    return this.#expiresAt === undefined ? undefined : new Date(this.#expiresAt)
  }

  /** @internal Bumped whenever credentials change; a call sent under an older one just replays. */
  get generation(): number {
    return this.#generation
  }

  /** @internal `undefined` once the store has been read (the synchronous fast path), else a promise. */
  ready(): Promise<void> | undefined {
    if (this.#loaded) return undefined
    this.#loading ??= this.#transport.load().then(({ signedIn, expiresAt }) => {
      this.#loaded = true
      if (!signedIn) return
      this.#state = 'signed-in'
      this.#expiresAt = expiresAt
      // A stored token may be old already: due now is fine, the refresh brings a fresh one.
      this.#refreshAt =
        expiresAt === undefined
          ? Number.POSITIVE_INFINITY
          : expiresAt - (this.#margin ?? DEFAULT_MARGIN_MS)
      this.#publish()
    })
    return this.#loading
  }

  /** @internal Whether the access token is close enough to expiry to refresh before the next call. */
  refreshDue(): boolean {
    return this.#clock.now() >= this.#refreshAt && this.canRefresh()
  }

  /** @internal Whether a refresh could succeed: not signed out, and (bearer) a refresh token held. */
  canRefresh(): boolean {
    return this.#state !== 'signed-out' && this.#transport.canRefresh()
  }

  /** @internal The error for calls made after the session ended, or `undefined` while it may be alive. */
  endedError(): SessionExpiredError | undefined {
    return this.#state === 'signed-out' ? new SessionExpiredError(this.#endReason) : undefined
  }

  /**
   * Refreshes now, sharing the refresh already in flight if there is one.
   * Rejects with {@link SessionExpiredError} when the server refuses (and signs
   * out), or {@link RefreshUnavailableError} when it stayed unreachable.
   */
  refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight
    const ended = this.endedError()
    if (ended) return Promise.reject(ended)
    this.#inflight = this.#runRefresh().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  /** @internal Refreshes unless credentials already changed since `generation` (a call that failed with old ones). */
  refreshIfStale(generation: number): Promise<void> {
    if (generation !== this.#generation) {
      const ended = this.endedError()
      return ended ? Promise.reject(ended) : Promise.resolve()
    }
    return this.refresh()
  }

  /** @internal A sign-in or refresh result came back through the client: keep its credentials. */
  async signedIn(path: string, data: unknown): Promise<void> {
    // A login waiting for its second factor (SPEC §10) has no session yet.
    if ((data as { mfaRequired?: unknown } | null)?.mfaRequired === true) return
    const expiresAt = await this.#transport.capture(data)
    this.#adopt(expiresAt)
    if (path !== this.paths.refresh) {
      this.#coordinator?.announceSignedIn(expiresAt)
      // A new session (maybe over an old one): the stream must watch this one.
      if (path !== this.paths.reauthenticate) this.#live?.renew()
    }
  }

  /**
   * @internal A call that ends this session on purpose (logout, logoutAll,
   * deleteAccount) is going out: until `done()`, the end it causes, as the live
   * stream or a peer tab reports it, is no news (`onSessionExpired` stays quiet).
   */
  endingOnPurpose(): () => void {
    this.#endingOnPurpose++
    let done = false
    return () => {
      if (done) return
      done = true
      this.#endingOnPurpose--
    }
  }

  /**
   * @internal A call was refused with `REAUTH_REQUIRED`: one prompt for every
   * call refused meanwhile; `true` when the user re-authenticated.
   */
  reauthenticated(): Promise<boolean> {
    const handler = this.#onReauthRequired
    if (!handler) return Promise.resolve(false)
    this.#reauthInflight ??= Promise.resolve()
      .then(handler)
      .then(
        (done) => done === true,
        () => false,
      )
      .finally(() => {
        this.#reauthInflight = undefined
      })
    return this.#reauthInflight
  }

  /** @internal A result carrying `session` (auth.me): learn the expiry if it is news. */
  observeSession(data: unknown): void {
    const expiresAt = expiryOfResult(data)
    if (expiresAt === undefined || expiresAt === this.#expiresAt) return
    if (this.#state === 'unknown') this.#state = 'signed-in'
    this.#schedule(expiresAt)
    this.#publish()
  }

  /** @internal A call found the session ended (`SESSION_REVOKED`/`SESSION_EXPIRED`). */
  sessionEnded(reason: SessionEndReason): Promise<void> {
    return this.#end(reason, { notify: true, broadcast: true })
  }

  /**
   * @internal Cookie transport: a call carried no access cookie. Both cookies
   * are set and cleared together (SPEC §5), so the refresh cookie is gone too:
   * sign out as a refused refresh would (`REFRESH_MISSING`) without asking the
   * server. A first visit without cookies is no expiry worth announcing; losing
   * a session this client held is.
   */
  sessionMissing(cause: unknown): SessionExpiredError {
    const held = this.#state === 'signed-in'
    void this.#end('REFRESH_MISSING', { notify: held, broadcast: held })
    return new SessionExpiredError('REFRESH_MISSING', { cause })
  }

  /**
   * Forgets the session on this side (store cleared, peers told) without
   * calling the server; `onSessionExpired` is not called. Prefer
   * `client.auth.logout.mutate()`, which also ends it on the server.
   */
  signOut(): Promise<void> {
    return this.#end('LOGGED_OUT', { notify: false, broadcast: true })
  }

  /** Closes the cross-tab channel and the live stream; listeners are dropped. */
  close(): void {
    this.#live?.close()
    this.#coordinator?.close()
    this.#listeners.clear()
  }

  async #runRefresh(): Promise<void> {
    await this.ready()
    if (!this.#transport.canRefresh()) {
      await this.#end('REFRESH_MISSING', { notify: this.#state === 'signed-in', broadcast: false })
      throw new SessionExpiredError('REFRESH_MISSING')
    }
    const wasSignedIn = this.#state === 'signed-in'
    const outcome = this.#coordinator
      ? await this.#coordinator.exclusive(() => this.#refreshWithRetry())
      : await this.#refreshWithRetry()
    if (outcome.kind === 'refreshed') {
      this.#adopt(outcome.expiresAt)
      return
    }
    // Not signed in to begin with (a first visit without cookies) is not an expiry worth announcing.
    const notify = wasSignedIn || outcome.reason !== 'REFRESH_MISSING'
    await this.#end(outcome.reason, { notify, broadcast: false })
    throw new SessionExpiredError(outcome.reason)
  }

  async #refreshWithRetry(): Promise<RefreshOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { expiresAt } = await this.#transport.refresh()
        return { kind: 'refreshed', expiresAt }
      } catch (error) {
        if (error instanceof RefreshRejected) {
          if (isSessionEndReason(error.reason)) return { kind: 'ended', reason: error.reason }
          // A refusal that is not about the session (CSRF_REJECTED, a bad URL) will not pass on retry.
          const transient =
            error.status >= 500 ||
            error.status === 429 ||
            error.status === 408 ||
            error.status === 0
          if (!transient) {
            throw error.reason
              ? new BreakwaterClientError(error.reason as never, error.message, { cause: error })
              : new RefreshUnavailableError({ cause: error })
          }
        }
        // No answer, a 5xx or a 429 says nothing about the session: back off and try again, never sign out.
        if (attempt >= this.#retries) throw new RefreshUnavailableError({ cause: error })
        const delay = Math.min(this.#maxDelay, this.#baseDelay * 2 ** attempt)
        await this.#sleep(delay / 2 + Math.random() * (delay / 2))
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#clock.setTimeout(resolve, ms)
    })
  }

  #adopt(expiresAt: number | undefined): void {
    this.#generation++
    this.#state = 'signed-in'
    this.#revocation = undefined
    this.#schedule(expiresAt)
    this.#publish()
  }

  /** Tells listeners (and the live stream) when what they see changed. */
  #publish(): void {
    const state = this.#state
    const expiresAt = this.#expiresAt
    const reason = state === 'signed-out' ? this.#endReason : undefined
    const revocation = state === 'signed-out' ? this.#revocation : undefined
    const previous = this.#snapshot
    this.#live?.want(state === 'signed-in')
    if (
      previous.state === state &&
      previous.accessTokenExpiresAt?.getTime() === expiresAt &&
      previous.reason === reason &&
      previous.revocation === revocation
    )
      return
    const snapshot: SessionSnapshot = Object.freeze({
      state,
      accessTokenExpiresAt: expiresAt === undefined ? undefined : new Date(expiresAt),
      reason,
      revocation,
    })
    this.#snapshot = snapshot
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot)
      } catch {
        // One listener failing must not keep the others from hearing.
      }
    }
  }

  /** What the live stream needs from this client. */
  #liveHost(deserialize: (value: unknown) => unknown) {
    const path = this.paths.watchSession
    const transport = this.#transport
    const fetchImpl: FetchEsque =
      transport.fetch ?? ((input, init) => globalThis.fetch(input, init as RequestInit))
    return {
      open: async (signal: AbortSignal) => {
        await this.ready()
        return fetchImpl(`${this.url}/${path}`, {
          method: 'GET',
          headers: { accept: 'text/event-stream', ...transport.headers(false, [path]) },
          signal,
        })
      },
      deserialize,
      ended: (revocation: string) => {
        void this.#end(endReasonOf(revocation), { notify: true, broadcast: true, revocation })
      },
      refused: (reason: string | undefined) => this.#streamRefused(reason),
    }
  }

  /** The server would not open (or keep) the stream: what to do next. */
  async #streamRefused(reason: string | undefined): Promise<RefusalDecision> {
    if (this.#state === 'signed-out') return 'stop'
    if (reason === 'SESSION_REVOKED' || reason === 'SESSION_EXPIRED') {
      await this.sessionEnded(reason)
      return 'stop'
    }
    if (reason === 'TOKEN_MISSING' && this.transport === 'cookie') {
      // No cookies at all: signed out, as a call would find (SPEC §5).
      this.sessionMissing(undefined)
      return 'stop'
    }
    if (reason === 'TOKEN_EXPIRED' || reason === 'TOKEN_INVALID' || reason === 'TOKEN_MISSING') {
      if (!this.canRefresh()) return 'stop'
      try {
        await this.refresh()
        return 'now'
      } catch (error) {
        return error instanceof SessionExpiredError ? 'stop' : 'later'
      }
    }
    // DB_UNAVAILABLE, RATE_LIMITED, a 5xx: the session may be fine; try again later.
    return 'later'
  }

  #schedule(expiresAt: number | undefined): void {
    this.#expiresAt = expiresAt
    if (expiresAt === undefined) {
      this.#refreshAt = Number.POSITIVE_INFINITY
      return
    }
    const now = this.#clock.now()
    const margin = this.#margin ?? Math.min(DEFAULT_MARGIN_MS, (expiresAt - now) / 4)
    const at = expiresAt - margin
    // A token that is due the moment it arrives (a skewed clock, a margin longer
    // than the lifetime) would make every call refresh: leave it to the reactive path.
    this.#refreshAt = at > now ? at : Number.POSITIVE_INFINITY
  }

  async #end(
    reason: SessionEndReason,
    how: { notify: boolean; broadcast: boolean; revocation?: string | undefined },
  ): Promise<void> {
    const previous = this.#state
    // Ended by this client's own logout or deleteAccount, however the news arrived: no expiry.
    const onPurpose = this.#endingOnPurpose > 0
    let revocation = how.revocation
    if (onPurpose && revocation !== undefined) {
      // The stream (or a peer that heard it) told of our own logout first: it is still our logout.
      reason = 'LOGGED_OUT'
      revocation = undefined
    }
    if (previous !== 'signed-out') {
      this.#endReason = reason
      this.#revocation = revocation
    }
    this.#state = 'signed-out'
    this.#generation++
    this.#expiresAt = undefined
    this.#refreshAt = Number.POSITIVE_INFINITY
    this.#publish()
    if (how.broadcast && previous !== 'signed-out')
      this.#coordinator?.announceEnded(reason, revocation)
    if (how.notify && !onPurpose && previous !== 'signed-out' && this.#onSessionExpired) {
      try {
        this.#onSessionExpired(revocation === undefined ? { reason } : { reason, revocation })
      } catch {
        // The app's callback failing must not leave calls hanging.
      }
    }
    await this.#transport.clear()
  }
}

/**
 * Creates the session state for one app: pass it to {@link refreshLink} and
 * to your HTTP link when you compose your own link chain.
 *
 * @example
 * ```ts
 * const auth = createBreakwaterAuth({ url: '/trpc', transport: 'cookie', onSessionExpired: () => location.assign('/login') })
 * const client = createTRPCClient<AppRouter>({
 *   links: [loggerLink(), refreshLink(auth), httpBatchLink({ url: auth.url, headers: auth.headers, fetch: auth.fetch })],
 * })
 * ```
 */
export function createBreakwaterAuth(options: BreakwaterAuthOptions): BreakwaterAuth {
  return new BreakwaterAuth(options)
}
