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
import { type ProcedurePaths, resolvePaths } from './procedure-paths.js'
import { memoryTokenStore } from './store/memory.js'
import type { TokenStore } from './store/types.js'
import { resolveTransformer, type TransformerOption } from './transformer.js'
import { bearerTransport } from './transport/bearer.js'
import { cookieTransport } from './transport/cookie.js'
import type { Transport } from './transport/types.js'
import { expiryOfResult, type FetchLike, RefreshRejected } from './wire.js'

/** Refresh this long before the access token expires, at most (a quarter of its lifetime for short ones). */
const DEFAULT_MARGIN_MS = 30_000

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
  /** A fetch to use instead of the global one (a cookie jar in Node tests, a custom agent). */
  fetch?: FetchLike
  /**
   * Called once when the session is over: a refresh was refused (`REFRESH_*`,
   * `SESSION_*`), a call found the session revoked, a peer tab signed out, or
   * (cookie transport) a call found the session's cookies gone
   * (`REFRESH_MISSING`). Not called for this client's own `auth.logout`, nor
   * when there was no session to lose (a first visit without cookies).
   */
  onSessionExpired?: (event: { reason: SessionEndReason }) => void
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
   * The time and timers the client uses (proactive refresh, refresh backoff,
   * cross-tab coordination). Default: the real ones. For tests that move time
   * instead of waiting for it.
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
  /** Pass to the HTTP link: cookie transport sends cookies (`credentials: 'include'`). */
  readonly fetch: FetchLike | undefined
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
  readonly #onSessionExpired: ((event: { reason: SessionEndReason }) => void) | undefined
  readonly #onReauthRequired: (() => boolean | Promise<boolean>) | undefined
  #reauthInflight: Promise<boolean> | undefined
  readonly #margin: number | undefined
  readonly #retries: number
  readonly #baseDelay: number
  readonly #maxDelay: number
  readonly #coordinator: TabCoordinator | undefined
  readonly #clock: Clock
  #state: AuthState = 'unknown'
  #endReason: SessionEndReason = 'REFRESH_MISSING'
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
          ended: (reason) => this.#end(reason, { notify: true, broadcast: false }),
          signedIn: (expiresAt) => this.#adopt(expiresAt),
        },
        settings,
        this.#clock,
      )
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
    if (path !== this.paths.refresh) this.#coordinator?.announceSignedIn(expiresAt)
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

  /** Closes the cross-tab channel. */
  close(): void {
    this.#coordinator?.close()
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
    this.#schedule(expiresAt)
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
    how: { notify: boolean; broadcast: boolean },
  ): Promise<void> {
    const previous = this.#state
    this.#state = 'signed-out'
    this.#endReason = reason
    this.#generation++
    this.#expiresAt = undefined
    this.#refreshAt = Number.POSITIVE_INFINITY
    if (how.broadcast && previous !== 'signed-out') this.#coordinator?.announceEnded(reason)
    if (how.notify && previous !== 'signed-out' && this.#onSessionExpired) {
      try {
        this.#onSessionExpired({ reason })
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
