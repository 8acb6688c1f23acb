import { type Database, loadRecentRevocations } from '@breakwater/db'

/**
 * The sessions revoked within the last access-token lifetime, in memory, so
 * that an authenticated call decides revocation without a database query.
 * Fed by the database's revocation broadcast (every instance on the same
 * PostgreSQL hears every revocation) and by this instance's own revocations at
 * once. An entry is forgotten when no access token of its session can still be
 * valid, which bounds the set by the revocation rate, not by uptime.
 */
export class RevocationSet {
  readonly #revoked = new Map<string, number>()
  readonly #retentionMs: number
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined

  constructor(retentionSeconds: number) {
    this.#retentionMs = retentionSeconds * 1000
  }

  get size(): number {
    return this.#revoked.size
  }

  has(sessionId: string): boolean {
    return this.#revoked.has(sessionId)
  }

  add(sessionId: string, revokedAt: Date = new Date()): void {
    const forgetAt = revokedAt.getTime() + this.#retentionMs
    if ((this.#revoked.get(sessionId) ?? 0) < forgetAt) this.#revoked.set(sessionId, forgetAt)
  }

  prune(now = Date.now()): void {
    for (const [sessionId, forgetAt] of this.#revoked) {
      if (forgetAt <= now) this.#revoked.delete(sessionId)
    }
  }

  /** Subscribes to the broadcast, then loads what was revoked recently (in that order, so nothing falls between). */
  async start(database: Database): Promise<void> {
    this.#unsubscribe = database.revocations.subscribe((event) =>
      this.add(event.sessionId, event.revokedAt),
    )
    const since = new Date(Date.now() - this.#retentionMs)
    for (const event of await loadRecentRevocations(database.db, since))
      this.add(event.sessionId, event.revokedAt)
    this.#timer = setInterval(() => this.prune(), Math.max(1000, Math.floor(this.#retentionMs / 4)))
    this.#timer.unref()
  }

  stop(): void {
    this.#unsubscribe?.()
    if (this.#timer) clearInterval(this.#timer)
  }
}
