import type { Clock } from '../clock.js'
import { leaderLocks, whileLeader } from '../coordination/leader.js'
import type { SessionEndReason } from '../errors.js'
import { headerOf, statusOf } from '../wire.js'
import { isByteStream, readEventStream } from './event-stream.js'

/** Backoff between reconnects: 500 ms doubling to 30 s, each delay jittered to 50–100 %. */
const BASE_DELAY_MS = 500
const MAX_DELAY_MS = 30_000
/** A stream that stayed up this long was healthy: the next drop starts the backoff over. */
const STABLE_MS = 10_000

/**
 * The client's end reason for the reason `sessions.watch` gives (the one the
 * server stored when it revoked the session).
 */
export function endReasonOf(revocation: string): SessionEndReason {
  switch (revocation) {
    case 'logout':
      return 'LOGGED_OUT'
    case 'expired':
      return 'SESSION_EXPIRED'
    case 'reuse':
      return 'REFRESH_REUSED'
    default:
      return 'SESSION_REVOKED'
  }
}

/** Adds or removes a browser's `online` listener; nothing where the global object has none (Node, a DOM emulation). */
function onlineListener(method: 'addEventListener' | 'removeEventListener', listener: () => void) {
  const target = globalThis as Partial<Record<typeof method, (type: string, l: () => void) => void>>
  try {
    target[method]?.('online', listener)
  } catch {
    // jsdom's window methods refuse a `this` that is Node's global.
  }
}

/** What to do after the server refused to open the stream. */
export type RefusalDecision = 'now' | 'later' | 'stop'

/** What the stream needs from the client it serves (BreakwaterAuth). */
export interface LiveHost {
  /** Sends the `sessions.watch` request (credentials, headers) with `signal`. */
  open(signal: AbortSignal): Promise<{ ok: boolean; body?: unknown; json(): Promise<unknown> }>
  /** The transformer's deserialize, for data and error events. */
  deserialize(value: unknown): unknown
  /** The stream said the session ended: `revocation` is the server's reason. */
  ended(revocation: string): void
  /**
   * The server refused the stream with `reason` (`TOKEN_EXPIRED`, `SESSION_REVOKED`, …):
   * `now` after a refresh, `later` to back off, `stop` once the session is over.
   */
  refused(reason: string | undefined): Promise<RefusalDecision>
}

type Outcome =
  /** The session ended: the server said why. */
  (
    | { kind: 'ended'; revocation: string }
    /** Refused at the door, or an error event mid-stream. */
    | { kind: 'refused'; reason: string | undefined }
    /** The connection failed or closed without an end (network, server restart, silence). */
    | { kind: 'dropped'; stable: boolean }
    /** This server has no `sessions.watch`, or this fetch cannot stream: nothing to retry. */
    | { kind: 'unsupported' }
  ) & {
    /** Whether the server confirmed the session (`{type: 'active'}`) on this connection. */
    active?: boolean
  }

/** Options of {@link LiveSession}. */
export interface LiveSessionOptions {
  /** The Web Lock tabs share one stream under; `undefined`: this client streams on its own. */
  lockName: string | undefined
  clock: Clock
}

/**
 * Keeps one `sessions.watch` stream (Server-Sent Events) open while the
 * session is live, so the end of the session, wherever it happens, reaches
 * this client within the server's revocation feed's delay, with no polling.
 *
 * One stream per browser: with Web Locks, the tab holding the lock streams
 * and tells the others through the cross-tab channel (the host's `ended` runs
 * the sign-out, which is broadcast); when that tab closes the next one takes
 * over. It reconnects with bounded, jittered backoff after a network failure
 * or a server restart, refreshes (single-flight) when a reconnect finds the
 * access token expired, and stops when the session ends.
 */
export class LiveSession {
  readonly #host: LiveHost
  readonly #lockName: string | undefined
  readonly #clock: Clock
  /** Aborts the current term (leadership request and stream) when the session ends. */
  #term: AbortController | undefined
  /** Aborts the current connection only (a new session on the same term). */
  #connection: AbortController | undefined
  #renewed = false
  #wake: (() => void) | undefined
  #closed = false

  constructor(host: LiveHost, options: LiveSessionOptions) {
    this.#host = host
    this.#lockName = options.lockName
    this.#clock = options.clock
  }

  /** Whether this client should stream: `true` while signed in. Idempotent. */
  want(on: boolean): void {
    if (this.#closed) return
    if (on && !this.#term) {
      const term = new AbortController()
      this.#term = term
      const locks = this.#lockName === undefined ? undefined : leaderLocks()
      // Settles when the stream is done: the session ended (the host signs out, which
      // calls want(false)), or it cannot stream here (it stays done until the next sign-in).
      void whileLeader(locks, this.#lockName ?? '', term.signal, () =>
        this.#lead(term.signal),
      ).catch(() => {})
    } else if (!on && this.#term) {
      this.#term.abort()
      this.#term = undefined
      this.#wake?.()
    }
  }

  /** The session changed under the stream (a new sign-in): reconnect at once, if streaming. */
  renew(): void {
    if (!this.#connection) return
    this.#renewed = true
    this.#connection.abort()
  }

  /** Stops for good. */
  close(): void {
    this.want(false)
    this.#closed = true
  }

  async #lead(signal: AbortSignal): Promise<void> {
    // The tab that led before may have just broadcast the end: let that message land first.
    await this.#sleep(0, signal)
    // Drops and refusals back off apart: a refresh-then-retry after a drop goes out at once.
    let failures = 0
    let refusals = 0
    while (!signal.aborted) {
      const outcome = await this.#connect(signal)
      if (signal.aborted) return
      if (outcome.active) refusals = 0
      let delay = 0
      switch (outcome.kind) {
        case 'ended':
          this.#host.ended(outcome.revocation)
          return
        case 'unsupported':
          return
        case 'refused': {
          const decision = await this.#host.refused(outcome.reason).catch(() => 'later' as const)
          if (decision === 'stop') return
          if (decision === 'now') {
            // Refreshed: worth trying at once, the first time; a second refusal in a row backs off.
            if (refusals > 0) delay = this.#backoff(refusals - 1)
            refusals++
          } else {
            delay = this.#backoff(failures)
            failures++
          }
          break
        }
        case 'dropped':
          if (this.#renewed) {
            this.#renewed = false
            failures = 0
            break
          }
          // A stream that stayed up a while was healthy; one that keeps dropping at once backs off.
          if (outcome.stable) failures = 0
          delay = this.#backoff(failures)
          failures++
          break
      }
      if (delay > 0) await this.#sleep(delay, signal)
    }
  }

  #backoff(failures: number): number {
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures, 16))
    return delay / 2 + Math.random() * (delay / 2)
  }

  /** Waits `ms`, or less when the term ends or the browser comes back online. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer)
        signal.removeEventListener('abort', done)
        onlineListener('removeEventListener', done)
        if (this.#wake === done) this.#wake = undefined
        resolve()
      }
      const timer = this.#clock.setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      onlineListener('addEventListener', done)
      this.#wake = done
    })
  }

  /** One connection, from request to its end; never throws. */
  async #connect(term: AbortSignal): Promise<Outcome> {
    const connection = new AbortController()
    this.#connection = connection
    const abort = () => connection.abort()
    term.addEventListener('abort', abort, { once: true })
    const openedAt = this.#clock.now()
    let inactivityMs = 0
    let watchdog: unknown
    const feed = () => {
      if (inactivityMs <= 0) return
      this.#clock.clearTimeout(watchdog)
      // Silence longer than the server promised (its pings stopped): the connection is dead.
      watchdog = this.#clock.setTimeout(abort, inactivityMs)
    }
    let active = false
    const dropped = (): Outcome => ({
      kind: 'dropped',
      stable: this.#clock.now() - openedAt >= STABLE_MS,
    })
    try {
      const response = await this.#host.open(connection.signal)
      const status = statusOf(response)
      const type = headerOf(response, 'content-type')
      if (status === 404 || status === 405) return { kind: 'unsupported' }
      if (!response.ok || (type !== null && !type.startsWith('text/event-stream'))) {
        // Refused before streaming (a JSON error), or a proxy's error page.
        const reason = await this.#reasonOfBody(response)
        return reason === undefined ? dropped() : { kind: 'refused', reason }
      }
      if (!isByteStream(response.body)) return { kind: 'unsupported' }
      let outcome: Outcome | undefined
      await readEventStream(
        response.body,
        (event) => {
          switch (event.event) {
            case 'connected': {
              const ms = (
                this.#parse(event.data, false) as { reconnectAfterInactivityMs?: unknown }
              )?.reconnectAfterInactivityMs
              inactivityMs = typeof ms === 'number' && ms > 0 ? ms : 0
              feed()
              return false
            }
            case 'message': {
              const value = this.#parse(event.data, true) as { type?: unknown; reason?: unknown }
              if (value?.type === 'active') active = true
              if (value?.type !== 'ended') return false
              outcome = {
                kind: 'ended',
                revocation: typeof value.reason === 'string' ? value.reason : 'revoked',
              }
              return true
            }
            case 'serialized-error': {
              const error = this.#parse(event.data, true) as { data?: { reason?: unknown } }
              const reason = error?.data?.reason
              outcome = { kind: 'refused', reason: typeof reason === 'string' ? reason : undefined }
              return true
            }
            case 'return':
              return true
            default:
              return false
          }
        },
        feed,
      )
      return { ...(outcome ?? dropped()), active }
    } catch {
      return { ...dropped(), active }
    } finally {
      this.#clock.clearTimeout(watchdog)
      term.removeEventListener('abort', abort)
      connection.abort()
      if (this.#connection === connection) this.#connection = undefined
    }
  }

  #parse(data: string, transformed: boolean): unknown {
    try {
      const value: unknown = JSON.parse(data)
      return transformed ? this.#host.deserialize(value) : value
    } catch {
      return undefined
    }
  }

  async #reasonOfBody(response: { json(): Promise<unknown> }): Promise<string | undefined> {
    try {
      const body = (await response.json()) as { error?: unknown } | null
      const error = this.#host.deserialize(body?.error) as { data?: { reason?: unknown } }
      const reason = error?.data?.reason
      return typeof reason === 'string' ? reason : undefined
    } catch {
      return undefined
    }
  }
}
