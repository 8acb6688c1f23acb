import {
  activateSigningKey,
  type Database,
  deleteExpiredSigningKeys,
  insertSigningKey,
  listSigningKeys,
  type SigningKey as StoredKey,
} from '@breakwater/db'
import {
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  KeySet,
  type SigningAlgorithm,
  type SigningKey,
  type SigningKeyJson,
  type SigningKeys,
  type VerificationKey,
  type VerificationKeys,
} from '@breakwater/tokens'

export interface KeyringOptions {
  database: Database
  alg: SigningAlgorithm
  /** How long a retired key must stay published: access lifetime + reload interval + leeway. */
  retireAfterSeconds: number
  reloadIntervalSeconds: number
}

// A token with an unknown kid may come from a key another instance just
// created; reload for it, but not more often than this, so forged kids cannot
// turn into a query per request.
const UNKNOWN_KID_RELOAD_MS = 2000

function toKey(stored: StoredKey, state: SigningKey['state']): SigningKey | undefined {
  if (!stored.privateJwk || (stored.alg !== 'EdDSA' && stored.alg !== 'ES256')) return undefined
  const json: SigningKeyJson = {
    kid: stored.kid,
    alg: stored.alg,
    state,
    createdAt: stored.createdAt.toISOString(),
    activatedAt: stored.activatedAt?.toISOString() ?? null,
    retiredAt: stored.retiredAt?.toISOString() ?? null,
    privateJwk: stored.privateJwk as Record<string, string>,
  }
  return importSigningKey(json)
}

/**
 * Builds the key set from stored rows. Two instances bootstrapping at once can
 * briefly leave two active keys; the most recently activated one signs and the
 * other is treated as retired (still published), so nothing fails meanwhile.
 */
function toKeySet(stored: readonly StoredKey[], now: Date): KeySet | undefined {
  const published = stored.filter(
    (key) => key.state !== 'retired' || (key.publishUntil ?? now) > now,
  )
  const active = published
    .filter((key) => key.state === 'active')
    .sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0]
  if (!active) return undefined
  const keys: SigningKey[] = []
  for (const key of published) {
    const state = key === active ? 'active' : key.state === 'pending' ? 'next' : 'retired'
    const imported = toKey(key, state)
    if (imported) keys.push(imported)
  }
  return KeySet.from(keys)
}

async function insertKey(database: Database, key: SigningKey): Promise<void> {
  const json = exportSigningKey(key)
  await insertSigningKey(database.db, {
    kid: key.kid,
    alg: key.alg,
    publicJwk: { ...key.publicJwk },
    privateJwk: json.privateJwk,
    state: key.state === 'next' ? 'pending' : 'active',
  })
}

/**
 * The signing keys of this instance: loaded from the database (where every
 * instance finds the same keys), created on the first start, re-read on a
 * timer and when a token names a key this instance has not seen yet.
 */
export class Keyring implements SigningKeys, VerificationKeys {
  readonly #options: KeyringOptions
  #keys: KeySet
  #timer: NodeJS.Timeout | undefined
  #lastUnknownKidReload = 0
  #reloading: Promise<void> | undefined

  private constructor(options: KeyringOptions, keys: KeySet) {
    this.#options = options
    this.#keys = keys
  }

  static async open(options: KeyringOptions): Promise<Keyring> {
    let keys = toKeySet(await listSigningKeys(options.database.db), new Date())
    if (!keys) {
      const active = await generateSigningKey({ alg: options.alg, state: 'active' })
      await insertKey(options.database, active)
      await insertKey(
        options.database,
        await generateSigningKey({ alg: options.alg, state: 'next' }),
      )
      // Retires any key another instance activated in the same instant: one active key remains.
      await activateSigningKey(options.database.db, {
        kid: active.kid,
        previousPublishUntil: new Date(Date.now() + options.retireAfterSeconds * 1000),
      })
      keys = toKeySet(await listSigningKeys(options.database.db), new Date())
      if (!keys) throw new Error('@breakwater/server: no active signing key after creating one')
    }
    const keyring = new Keyring(options, keys)
    keyring.#timer = setInterval(() => {
      keyring.reload().catch(() => {})
    }, options.reloadIntervalSeconds * 1000)
    keyring.#timer.unref()
    return keyring
  }

  get keySet(): KeySet {
    return this.#keys
  }

  signingKey(): SigningKey {
    return this.#keys.signingKey()
  }

  verificationKey(kid: string): VerificationKey | undefined {
    return this.#keys.verificationKey(kid)
  }

  /** Re-reads the keys; concurrent calls share one query. Keeps the old set if the database is down. */
  reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const keys = toKeySet(await listSigningKeys(this.#options.database.db), new Date())
        if (keys) this.#keys = keys
      } finally {
        this.#reloading = undefined
      }
    })()
    return this.#reloading
  }

  /** Reloads for an unknown kid, at most every 2 s; resolves true when it did. */
  async reloadForUnknownKid(): Promise<boolean> {
    const now = Date.now()
    if (now - this.#lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return false
    this.#lastUnknownKidReload = now
    await this.reload().catch(() => {})
    return true
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
  }
}

/**
 * One rotation (SPEC §4, `breakwater keys rotate`): the published pending key
 * starts signing, the active one retires but stays published for
 * `retireAfterSeconds`, a new pending key is published for the next rotation,
 * and keys whose publication ended are deleted.
 */
export async function rotateSigningKeys(
  options: Pick<KeyringOptions, 'database' | 'alg' | 'retireAfterSeconds'>,
): Promise<{ activated: string; published: string; deleted: string[] }> {
  const { database } = options
  const stored = await listSigningKeys(database.db, { states: ['pending'] })
  let pending = stored[0]?.kid
  if (!pending) {
    const key = await generateSigningKey({ alg: options.alg, state: 'next' })
    await insertKey(database, key)
    pending = key.kid
  }
  const publishUntil = new Date(Date.now() + options.retireAfterSeconds * 1000)
  const activated = await activateSigningKey(database.db, {
    kid: pending,
    previousPublishUntil: publishUntil,
  })
  if (!activated)
    throw new Error('@breakwater/server: the pending key vanished during rotation; run it again')
  const next = await generateSigningKey({ alg: options.alg, state: 'next' })
  await insertKey(database, next)
  const deleted = await deleteExpiredSigningKeys(database.db)
  return { activated: activated.kid, published: next.kid, deleted }
}
