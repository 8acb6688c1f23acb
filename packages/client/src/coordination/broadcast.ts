import { type Clock, systemClock } from '../clock.js'
import type { SessionEndReason } from '../errors.js'
import { indexedDbLedger, type RefreshLedger } from './ledger.js'

/** What one refresh came to, shared with peer tabs. */
export type RefreshOutcome =
  | { kind: 'refreshed'; expiresAt: number | undefined }
  | { kind: 'ended'; reason: SessionEndReason }

type Message =
  | { type: 'claim'; from: string; at: number }
  | { type: 'refreshed'; from: string; expiresAt: number | undefined }
  | { type: 'ended'; from: string; reason: SessionEndReason; revocation?: string }
  | { type: 'released'; from: string }
  | { type: 'signed-in'; from: string; expiresAt: number | undefined }

/** Options of cross-tab coordination (cookie transport). */
export interface CoordinationOptions {
  /** BroadcastChannel name; tabs with the same name share refreshes. Default: derived from the URL. */
  channel?: string
  /** Use Web Locks when the runtime has them. Default `true`. */
  locks?: boolean
  /** Without Web Locks: how long a refresh claim waits for competing claims. Default 30 ms. */
  claimWindowMs?: number
  /** How long to wait for a peer's refresh before doing it ourselves. Default 10 s. */
  peerTimeoutMs?: number
}

/** What a peer tab tells this one. */
export interface PeerHandlers {
  refreshed(expiresAt: number | undefined): void
  /** `revocation`: the server's reason, when the live stream brought the news. */
  ended(reason: SessionEndReason, revocation: string | undefined): void
  signedIn(expiresAt: number | undefined): void
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

function webLocks(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  return typeof locks?.request === 'function' ? locks : undefined
}

/** Whether this runtime can coordinate tabs at all. */
export function canCoordinate(): boolean {
  return typeof globalThis.BroadcastChannel === 'function'
}

/**
 * Makes one refresh serve every tab (or client instance) on one channel.
 *
 * With Web Locks (browsers), refreshes run under an exclusive lock; a tab that
 * gets the lock after a peer's refresh finished adopts that outcome instead
 * of refreshing again, learnt from the peer's message or, when the lock comes
 * first, from the ledger the peer wrote before letting go (ledger.ts). Without them (Node 20 has BroadcastChannel but no
 * `navigator.locks`), a tab posts a claim, waits a short window for competing
 * claims, and the oldest claim (ties broken by id) refreshes while the others
 * wait for its outcome. Either way the refresh cookie is presented once, and
 * the server's reuse grace covers what slips through (SPEC §4).
 */
export class TabCoordinator {
  // Only has to be unique among tabs: the wall clock here is not a deadline, so not the injected one.
  readonly #id = Math.random().toString(36).slice(2) + Date.now().toString(36)
  readonly #channel: InstanceType<typeof BroadcastChannel>
  readonly #handlers: PeerHandlers
  readonly #locks: LockManagerLike | undefined
  readonly #lockName: string
  readonly #claimWindowMs: number
  readonly #peerTimeoutMs: number
  readonly #clock: Clock
  #peerClaim: { from: string; at: number; seenAt: number } | undefined
  #myClaim: { at: number; lost: boolean } | undefined
  #outcomeSeq = 0
  #lastOutcome: RefreshOutcome | undefined
  readonly #ledger: RefreshLedger | undefined
  /**
   * When this tab last learnt what the cookies hold (its own refresh or sign-in,
   * or a peer's): a ledger entry newer than this is news. It starts at
   * creation, since the first call carries whatever the cookie jar held then.
   */
  #knownAt: number
  readonly #waiters = new Set<(outcome: RefreshOutcome | undefined) => void>()

  constructor(
    name: string,
    handlers: PeerHandlers,
    options: CoordinationOptions = {},
    clock: Clock = systemClock,
  ) {
    this.#handlers = handlers
    this.#clock = clock
    this.#lockName = `breakwater-refresh:${name}`
    this.#locks = options.locks === false ? undefined : webLocks()
    this.#claimWindowMs = options.claimWindowMs ?? 30
    this.#peerTimeoutMs = options.peerTimeoutMs ?? 10_000
    this.#ledger = this.#locks ? indexedDbLedger(this.#lockName, clock) : undefined
    this.#knownAt = clock.now()
    this.#channel = new BroadcastChannel(name)
    this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data as Message)
    // Node: an open channel must not keep a finished process alive.
    ;(this.#channel as unknown as { unref?: () => void }).unref?.()
  }

  /** Runs `refresh` unless a peer's refresh serves; resolves to whichever outcome counts. */
  exclusive(refresh: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    if (this.#locks) {
      const seq = this.#outcomeSeq
      const knownAt = this.#knownAt
      const ledger = this.#ledger
      return this.#locks.request(this.#lockName, async () => {
        if (this.#outcomeSeq !== seq && this.#lastOutcome) return this.#lastOutcome
        const entry = await ledger?.read()
        if (entry && entry.at > knownAt && (entry.expiresAt ?? Infinity) > this.#clock.now()) {
          const outcome: RefreshOutcome = { kind: 'refreshed', expiresAt: entry.expiresAt }
          this.#record(outcome)
          return outcome
        }
        const outcome = await this.#runAndShare(refresh)
        if (outcome.kind === 'refreshed')
          await ledger?.write({ at: this.#knownAt, expiresAt: outcome.expiresAt })
        return outcome
      })
    }
    return this.#claimAndRun(refresh)
  }

  /** Tells peers this tab's session ended (logout, a call found it revoked, the live stream said so). */
  announceEnded(reason: SessionEndReason, revocation?: string): void {
    this.#post(
      revocation === undefined
        ? { type: 'ended', from: this.#id, reason }
        : { type: 'ended', from: this.#id, reason, revocation },
    )
  }

  /** Tells peers this tab signed in, so tabs that had signed out resume. */
  announceSignedIn(expiresAt: number | undefined): void {
    this.#knownAt = this.#clock.now()
    this.#post({ type: 'signed-in', from: this.#id, expiresAt })
  }

  close(): void {
    for (const resolve of this.#waiters) resolve(undefined)
    this.#waiters.clear()
    this.#channel.close()
  }

  async #claimAndRun(refresh: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    if (this.#peerClaim && this.#clock.now() - this.#peerClaim.seenAt < this.#peerTimeoutMs) {
      const outcome = await this.#nextOutcome(this.#peerTimeoutMs)
      if (outcome) return outcome
    }
    const claim = { at: this.#clock.now(), lost: false }
    this.#myClaim = claim
    this.#post({ type: 'claim', from: this.#id, at: claim.at })
    try {
      const early = await this.#nextOutcome(this.#claimWindowMs)
      if (early) return early
      if (claim.lost) {
        const outcome = await this.#nextOutcome(this.#peerTimeoutMs)
        if (outcome) return outcome
        // The winner went quiet (closed tab, failed request): do it ourselves.
      }
      return await this.#runAndShare(refresh)
    } finally {
      if (this.#myClaim === claim) this.#myClaim = undefined
    }
  }

  async #runAndShare(refresh: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    let outcome: RefreshOutcome
    try {
      outcome = await refresh()
    } catch (error) {
      this.#post({ type: 'released', from: this.#id })
      throw error
    }
    this.#record(outcome)
    if (outcome.kind === 'refreshed')
      this.#post({ type: 'refreshed', from: this.#id, expiresAt: outcome.expiresAt })
    else this.#post({ type: 'ended', from: this.#id, reason: outcome.reason })
    return outcome
  }

  #nextOutcome(timeoutMs: number): Promise<RefreshOutcome | undefined> {
    return new Promise((resolve) => {
      const done = (outcome: RefreshOutcome | undefined) => {
        this.#clock.clearTimeout(timer)
        this.#waiters.delete(done)
        resolve(outcome)
      }
      const timer = this.#clock.setTimeout(() => done(undefined), timeoutMs)
      this.#waiters.add(done)
    })
  }

  #record(outcome: RefreshOutcome): void {
    this.#outcomeSeq++
    this.#lastOutcome = outcome
    this.#knownAt = this.#clock.now()
  }

  #settle(outcome: RefreshOutcome | undefined): void {
    this.#peerClaim = undefined
    if (outcome) this.#record(outcome)
    for (const resolve of [...this.#waiters]) resolve(outcome)
  }

  #receive(message: Message): void {
    if (typeof message !== 'object' || message === null || message.from === this.#id) return
    switch (message.type) {
      case 'claim': {
        this.#peerClaim = { from: message.from, at: message.at, seenAt: this.#clock.now() }
        const mine = this.#myClaim
        if (mine && (message.at < mine.at || (message.at === mine.at && message.from < this.#id)))
          mine.lost = true
        return
      }
      case 'refreshed':
        this.#handlers.refreshed(message.expiresAt)
        this.#settle({ kind: 'refreshed', expiresAt: message.expiresAt })
        return
      case 'ended':
        this.#handlers.ended(
          message.reason,
          typeof message.revocation === 'string' ? message.revocation : undefined,
        )
        this.#settle({ kind: 'ended', reason: message.reason })
        return
      case 'released':
        this.#settle(undefined)
        return
      case 'signed-in':
        this.#knownAt = this.#clock.now()
        this.#handlers.signedIn(message.expiresAt)
        return
    }
  }

  #post(message: Message): void {
    try {
      this.#channel.postMessage(message)
    } catch {
      // A closed channel: this client is shutting down and no peer needs to hear it.
    }
  }
}
