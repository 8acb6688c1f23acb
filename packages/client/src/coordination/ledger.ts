import type { Clock } from '../clock.js'

/** A refresh that succeeded: when (the refreshing tab's clock, ms) and the new access token's expiry. */
export interface LedgerEntry {
  at: number
  expiresAt: number | undefined
}

/**
 * The last refresh any tab made, kept where the next holder of the refresh
 * lock is sure to see it. A BroadcastChannel message is not enough: the
 * browser may grant the lock to a waiting tab before it delivers the message
 * the previous holder posted, and that tab would present the refresh cookie a
 * second time. An IndexedDB write that completed before the lock was released
 * is visible to every transaction begun after it was granted.
 */
export interface RefreshLedger {
  read(): Promise<LedgerEntry | undefined>
  write(entry: LedgerEntry): Promise<void>
}

/** The slice of IndexedDB the ledger needs (the client builds without the DOM library). */
interface IdbRequest<T> {
  result: T
  onsuccess: (() => void) | null
  onerror: (() => void) | null
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null
  onblocked: (() => void) | null
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean }
  createObjectStore(name: string): unknown
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction
  close(): void
}
interface IdbTransaction {
  objectStore(name: string): {
    get(key: string): IdbRequest<unknown>
    put(value: unknown, key: string): IdbRequest<unknown>
  }
  oncomplete: (() => void) | null
  onerror: (() => void) | null
  onabort: (() => void) | null
}
interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest
}

const DATABASE = 'breakwater'
const STORE = 'refreshes'
/** A ledger that does not answer in this long is treated as absent: the refresh goes ahead. */
const TIMEOUT_MS = 1000

/**
 * The ledger in the browser's IndexedDB under `key` (one entry per channel),
 * or `undefined` where there is none (Node). Every failure (storage disabled,
 * quota, a blocked upgrade, no answer within a second) reads as "no entry", so
 * the worst case is the refresh this ledger exists to save.
 */
export function indexedDbLedger(key: string, clock: Clock): RefreshLedger | undefined {
  const factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB
  if (typeof factory?.open !== 'function') return undefined
  let opened: Promise<IdbDatabase | undefined> | undefined

  const open = () => {
    opened ??= settle<IdbDatabase | undefined>(clock, undefined, (resolve) => {
      const request = factory.open(DATABASE, 1)
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE))
          request.result.createObjectStore(STORE)
      }
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => resolve(undefined)
      request.onblocked = () => resolve(undefined)
    }).then((database) => {
      // Not opened this time (timed out or refused): try again on the next refresh.
      if (!database) opened = undefined
      return database
    })
    return opened
  }

  return {
    async read() {
      const database = await open()
      if (!database) return undefined
      const value = await settle<unknown>(clock, undefined, (resolve) => {
        const request = database.transaction(STORE, 'readonly').objectStore(STORE).get(key)
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => resolve(undefined)
      })
      return isEntry(value) ? value : undefined
    },
    async write(entry) {
      const database = await open()
      if (!database) return
      await settle<void>(clock, undefined, (resolve) => {
        const transaction = database.transaction(STORE, 'readwrite')
        // Resolved on commit, not on the put: only then can the next lock holder read it.
        transaction.oncomplete = () => resolve()
        transaction.onerror = () => resolve()
        transaction.onabort = () => resolve()
        transaction.objectStore(STORE).put({ at: entry.at, expiresAt: entry.expiresAt }, key)
      })
    },
  }
}

/** Runs `start`, resolving with what it reports, or `fallback` on a throw or after {@link TIMEOUT_MS}. */
function settle<T>(
  clock: Clock,
  fallback: T,
  start: (resolve: (value: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false
    const finish = (value: T) => {
      if (done) return
      done = true
      clock.clearTimeout(timer)
      resolve(value)
    }
    const timer = clock.setTimeout(() => finish(fallback), TIMEOUT_MS)
    try {
      start(finish)
    } catch {
      finish(fallback)
    }
  })
}

function isEntry(value: unknown): value is LedgerEntry {
  if (typeof value !== 'object' || value === null) return false
  const { at, expiresAt } = value as Record<string, unknown>
  return typeof at === 'number' && (expiresAt === undefined || typeof expiresAt === 'number')
}
