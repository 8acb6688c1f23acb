import type { RevocationEvent } from '../queries/revocations.js'

/** Receives each revoked session; must not throw (a throw is reported and ignored). */
export type RevocationListener = (event: RevocationEvent) => void

/** How revocations reach this process. */
export type RevocationSync = 'notify' | 'poll' | 'off'

/**
 * Revocations made by any process on the same database, delivered at least once (a
 * reconnect may repeat some, so listeners must be idempotent, as a "revoked ids" cache
 * naturally is).
 *
 * @example
 * ```ts
 * const stop = database.revocations.subscribe(({ sessionId }) => revoked.add(sessionId))
 * ```
 */
export interface RevocationFeed {
  readonly mode: RevocationSync
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: RevocationListener): () => void
  /**
   * Whether the feed is currently receiving (LISTEN connection up, or last poll
   * succeeded). Useful for a readiness probe; revocations missed while `false` are
   * replayed on recovery.
   */
  readonly healthy: boolean
}

/** A source that pushes into a {@link RevocationHub}, stopped when the database closes. */
export interface RevocationSource {
  readonly healthy: boolean
  stop(): Promise<void>
}

/** Fan-out of revocation events to listeners; one per `Database`. */
export class RevocationHub implements RevocationFeed {
  readonly mode: RevocationSync
  readonly #listeners = new Set<RevocationListener>()
  readonly #onError: (error: unknown) => void
  source: RevocationSource | undefined

  constructor(mode: RevocationSync, onError: (error: unknown) => void) {
    this.mode = mode
    this.#onError = onError
  }

  get healthy(): boolean {
    return this.source?.healthy ?? this.mode === 'off'
  }

  subscribe(listener: RevocationListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent handles.
    const entry: RevocationListener = (event) => listener(event)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  emit(event: RevocationEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.#onError(error)
      }
    }
  }
}
