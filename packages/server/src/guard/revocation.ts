import { performance } from 'node:perf_hooks'
import { type Database, loadRecentRevocations } from '@breakwater/db'

export interface RevocationSetOptions {
  /**
   * How long after a revocation a token of the session can still be accepted:
   * the access-token lifetime, plus the clock leeway, plus the key reload interval.
   */
  readonly blockSeconds: number
  /** Wall clock, milliseconds since the epoch (the verifier's clock). */
  readonly clock: () => number
  /** A clock that only moves forward, in milliseconds. Default `performance.now`. */
  readonly monotonic?: () => number
}

interface Entry {
  /** Wall-clock instant after which every token of the session has expired. */
  readonly blocksUntil: number
  /** Monotonic instant before which the entry is kept, whatever the wall clock says. */
  readonly keepUntil: number
}

/**
 * The sessions revoked within the last access-token lifetime, in memory, so
 * that an authenticated call decides revocation without a database query.
 * Fed by the database's revocation broadcast (every instance on the same
 * PostgreSQL hears every revocation) and by this instance's own revocations at
 * once.
 *
 * An entry is forgotten only when the tokens it blocks have expired by the
 * wall clock (their `exp`, which the verifier judges) *and* that much time
 * has really passed by a monotonic clock: a wall clock stepped forward and
 * back again cannot re-admit a logged-out token.
 */
export class RevocationSet {
  readonly #revoked = new Map<string, Entry>()
  readonly #blockMs: number
  readonly #clock: () => number
  readonly #monotonic: () => number
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined

  constructor(options: RevocationSetOptions) {
    this.#blockMs = options.blockSeconds * 1000
    this.#clock = options.clock
    this.#monotonic = options.monotonic ?? (() => performance.now())
  }

  get size(): number {
    return this.#revoked.size
  }

  has(sessionId: string): boolean {
    return this.#revoked.has(sessionId)
  }

  add(sessionId: string, revokedAt: Date = new Date(this.#clock())): void {
    const blocksUntil = revokedAt.getTime() + this.#blockMs
    const remaining = Math.max(0, blocksUntil - this.#clock())
    const entry = { blocksUntil, keepUntil: this.#monotonic() + remaining }
    const existing = this.#revoked.get(sessionId)
    if (
      !existing ||
      existing.blocksUntil < entry.blocksUntil ||
      existing.keepUntil < entry.keepUntil
    ) {
      this.#revoked.set(sessionId, {
        blocksUntil: Math.max(entry.blocksUntil, existing?.blocksUntil ?? 0),
        keepUntil: Math.max(entry.keepUntil, existing?.keepUntil ?? 0),
      })
    }
  }

  prune(): void {
    const now = this.#clock()
    const elapsed = this.#monotonic()
    for (const [sessionId, entry] of this.#revoked) {
      if (entry.blocksUntil <= now && entry.keepUntil <= elapsed) this.#revoked.delete(sessionId)
    }
  }

  /** Subscribes to the broadcast, then loads what was revoked recently (in that order, so nothing falls between). */
  async start(database: Database): Promise<void> {
    this.#unsubscribe = database.revocations.subscribe((event) =>
      this.add(event.sessionId, event.revokedAt),
    )
    const since = new Date(this.#clock() - this.#blockMs)
    for (const event of await loadRecentRevocations(database.db, since))
      this.add(event.sessionId, event.revokedAt)
    this.#timer = setInterval(() => this.prune(), Math.max(1000, Math.floor(this.#blockMs / 4)))
    this.#timer.unref()
  }

  stop(): void {
    this.#unsubscribe?.()
    if (this.#timer) clearInterval(this.#timer)
  }
}
