import {
  activateSigningKey,
  type Database,
  deleteExpiredSigningKeys,
  insertSigningKey,
  listSigningKeys,
  type SigningKey as StoredKey,
} from '@breakwater/db'
import {
  generateSigningKey,
  KeySet,
  type SecretBox,
  type SigningAlgorithm,
  type SigningKey,
  type SigningKeys,
  type VerificationKey,
  type VerificationKeys,
} from '@breakwater/tokens'
import { openStoredKey, sealLegacyKeys, sealPrivateKey } from './sealed-keys.js'
import { resolveKeyEncryptionSecrets } from './secret.js'

export interface KeyringOptions {
  database: Database
  alg: SigningAlgorithm
  /** How long a retired key must stay published: access lifetime + reload interval + leeway. */
  retireAfterSeconds: number
  reloadIntervalSeconds: number
  /**
   * Seals and opens the stored private keys (SPEC §2): the `box` of
   * {@link resolveKeyEncryptionSecrets}. Default: resolved from the database alone (the
   * embedded default's secret file, or a per-process secret in memory; PostgreSQL
   * requires one and throws).
   */
  secrets?: SecretBox
  /** Told when a background reload fails (the keyring keeps its keys meanwhile). */
  onReloadError?: (error: unknown) => void
}

// A token with an unknown kid may come from a key another instance just
// created; reload for it, but not more often than this, so forged kids cannot
// turn into a query per request.
const UNKNOWN_KID_RELOAD_MS = 2000

/**
 * Builds the key set from stored rows. Two instances bootstrapping at once can
 * briefly leave two active keys; the most recently activated one signs and the
 * other is treated as retired (still published), so nothing fails meanwhile.
 *
 * @throws {SigningKeyUnreadable} for a published key no configured secret opens:
 *   generating fresh keys instead would silently orphan every stored one.
 */
function toKeySet(box: SecretBox, stored: readonly StoredKey[], now: Date): KeySet | undefined {
  const published = stored.filter(
    (key) => key.state !== 'retired' || (key.publishUntil ?? now) > now,
  )
  const active = published
    .filter((key) => key.state === 'active')
    .sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0]
  if (!active) return undefined
  const keys: SigningKey[] = []
  for (const key of published) {
    // The database's states are the token package's: only a second active key is renamed.
    const state = key === active ? 'active' : key.state === 'active' ? 'retired' : key.state
    const imported = openStoredKey(box, key, state)
    if (imported) keys.push(imported)
  }
  return KeySet.from(keys)
}

async function insertKey(database: Database, box: SecretBox, key: SigningKey): Promise<void> {
  await insertSigningKey(database.db, {
    kid: key.kid,
    alg: key.alg,
    publicJwk: { ...key.publicJwk },
    sealedPrivateKey: sealPrivateKey(box, key),
    state: key.state === 'active' ? 'active' : 'pending',
  })
}

/** The stored keys, with any legacy plaintext row sealed first (and the list re-read then). */
async function loadSealed(
  database: Database,
  box: SecretBox,
): Promise<{ stored: StoredKey[]; sealed: number }> {
  const stored = await listSigningKeys(database.db)
  const sealed = await sealLegacyKeys(database, box, stored)
  return { stored: sealed > 0 ? await listSigningKeys(database.db) : stored, sealed }
}

/**
 * The signing keys of this instance: loaded from the database (where every
 * instance finds the same keys), created on the first start, re-read on a
 * timer and when a token names a key this instance has not seen yet.
 */
export class Keyring implements SigningKeys, VerificationKeys {
  readonly #options: KeyringOptions
  readonly #box: SecretBox
  /**
   * Legacy rows (private key in clear, from before migration 000006) this instance
   * sealed when it opened. Their plaintext may linger in WAL, dead tuples and backups
   * until those are recycled: worth a warning advising `breakwater keys rotate`.
   */
  readonly legacyKeysSealed: number
  #keys: KeySet
  #timer: NodeJS.Timeout | undefined
  #lastUnknownKidReload = 0
  #reloading: Promise<void> | undefined

  private constructor(
    options: KeyringOptions,
    box: SecretBox,
    keys: KeySet,
    legacyKeysSealed: number,
  ) {
    this.#options = options
    this.#box = box
    this.#keys = keys
    this.legacyKeysSealed = legacyKeysSealed
  }

  /**
   * Loads the keys, sealing any legacy plaintext row on the way, or creates the first
   * ones (sealed) on a fresh database.
   *
   * @throws {SigningKeyUnreadable} when a published key does not open with the secrets.
   */
  static async open(options: KeyringOptions): Promise<Keyring> {
    const box = options.secrets ?? resolveKeyEncryptionSecrets({ database: options.database }).box
    const loaded = await loadSealed(options.database, box)
    let keys = toKeySet(box, loaded.stored, new Date())
    if (!keys) {
      const active = await generateSigningKey({ alg: options.alg, state: 'active' })
      await insertKey(options.database, box, active)
      await insertKey(
        options.database,
        box,
        await generateSigningKey({ alg: options.alg, state: 'pending' }),
      )
      // Retires any key another instance activated in the same instant: one active key remains.
      await activateSigningKey(options.database.db, {
        kid: active.kid,
        previousPublishUntil: new Date(Date.now() + options.retireAfterSeconds * 1000),
      })
      keys = toKeySet(box, await listSigningKeys(options.database.db), new Date())
      if (!keys) throw new Error('@breakwater/server: no active signing key after creating one')
    }
    const keyring = new Keyring(options, box, keys, loaded.sealed)
    keyring.#timer = setInterval(() => {
      keyring.reload().catch((error: unknown) => options.onReloadError?.(error))
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

  /**
   * Re-reads the keys; concurrent calls share one query. Keeps the old set if the
   * database is down or a new key does not open (and rejects then).
   */
  reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const { stored } = await loadSealed(this.#options.database, this.#box)
        const keys = toKeySet(this.#box, stored, new Date())
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
    await this.reload().catch((error: unknown) => this.#options.onReloadError?.(error))
    return true
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
  }
}

/** Options of {@link rotateSigningKeys}. */
export interface RotateSigningKeysOptions
  extends Pick<KeyringOptions, 'database' | 'alg' | 'retireAfterSeconds'> {
  /**
   * The key-encryption secret(s) the new key is sealed under (the plugin's `secret`,
   * `BREAKWATER_SECRET`); default as in {@link resolveKeyEncryptionSecrets}.
   */
  secret?: string | readonly string[]
}

/**
 * One rotation (SPEC §4, `breakwater keys rotate`), the only one Breakwater has: the
 * published pending key starts signing, the active one retires but stays published for
 * `retireAfterSeconds`, a new pending key is published (sealed) for the next rotation,
 * and keys whose publication ended are deleted.
 */
export async function rotateSigningKeys(
  options: RotateSigningKeysOptions,
): Promise<{ activated: string; published: string; deleted: string[] }> {
  const { database } = options
  const { box } = resolveKeyEncryptionSecrets({ secret: options.secret, database })
  const stored = (await loadSealed(database, box)).stored.filter((key) => key.state === 'pending')
  // The pending key is about to sign: make sure this secret opens it before promoting it.
  if (stored[0]) openStoredKey(box, stored[0], 'pending')
  let pending = stored[0]?.kid
  if (!pending) {
    const key = await generateSigningKey({ alg: options.alg, state: 'pending' })
    await insertKey(database, box, key)
    pending = key.kid
  }
  const publishUntil = new Date(Date.now() + options.retireAfterSeconds * 1000)
  const activated = await activateSigningKey(database.db, {
    kid: pending,
    previousPublishUntil: publishUntil,
  })
  if (!activated)
    throw new Error('@breakwater/server: the pending key vanished during rotation; run it again')
  const next = await generateSigningKey({ alg: options.alg, state: 'pending' })
  await insertKey(database, box, next)
  const deleted = await deleteExpiredSigningKeys(database.db)
  return { activated: activated.kid, published: next.kid, deleted }
}
