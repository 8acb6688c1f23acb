import {
  type Database,
  listSealedTotpSeeds,
  listSigningKeys,
  resealTotpSeed,
  sealSigningKey,
} from '@breakwater/db'
import { openPrivateJwk, sealPrivateJwk } from './sealed-keys.js'
import { resolveKeyEncryptionSecrets } from './secret.js'

export interface RewrapSigningKeysOptions {
  database: Database
  /**
   * The key-encryption secrets, newest first (`"new,old"`): every stored key is sealed
   * again under the first; any of them may open it. Default as in
   * `resolveKeyEncryptionSecrets` (the embedded default's secret file).
   */
  secret?: string | readonly string[]
}

/** What {@link rewrapSigningKeys} did: counts only, never a key or a secret. */
export interface RewrapSigningKeysResult {
  /** Stored keys with a private half. */
  readonly total: number
  /** Sealed again under the first secret. */
  readonly rewrapped: number
  /** Legacy rows that held their private key in clear, now sealed. */
  readonly sealed: number
  /** Already sealed under the first secret: left as they were. */
  readonly current: number
  /** Changed by someone else between read and write (run it again). */
  readonly skipped: number
  /** TOTP seeds (SPEC §10): sealed again under the first secret, of how many. */
  readonly totpSeeds: {
    readonly total: number
    readonly rewrapped: number
    readonly skipped: number
  }
}

/**
 * `breakwater keys rewrap`: seals every stored signing key again under the first of the
 * configured secrets, so the older ones can then be dropped (SPEC §2: "rotating it
 * re-wraps the stored keys"). Every key is opened before anything is written: if one
 * does not open, nothing changes and {@link SigningKeyUnreadable} says which.
 *
 * @example
 * // BREAKWATER_SECRET="new,old" breakwater keys rewrap, then BREAKWATER_SECRET="new"
 * const result = await rewrapSigningKeys({ database, secret: [newSecret, oldSecret] })
 */
export async function rewrapSigningKeys(
  options: RewrapSigningKeysOptions,
): Promise<RewrapSigningKeysResult> {
  const { database } = options
  const { box } = resolveKeyEncryptionSecrets({ secret: options.secret, database })
  const stored = await listSigningKeys(database.db)
  const work: Array<{ kid: string; privateJwk: string; replacing: string | null }> = []
  let current = 0
  for (const row of stored) {
    if (row.sealedPrivateKey !== null && box.isCurrent(row.sealedPrivateKey)) {
      // Opened anyway: a value under the right key id that does not open is still an error.
      openPrivateJwk(box, row)
      current++
      continue
    }
    const privateJwk = openPrivateJwk(box, row)
    if (privateJwk !== undefined) {
      work.push({ kid: row.kid, privateJwk, replacing: row.sealedPrivateKey })
    }
  }
  let rewrapped = 0
  let sealed = 0
  let skipped = 0
  for (const { kid, privateJwk, replacing } of work) {
    const written = await sealSigningKey(database.db, {
      kid,
      sealedPrivateKey: sealPrivateJwk(box, kid, privateJwk),
      replacing,
    })
    if (!written) skipped++
    else if (replacing === null) sealed++
    else rewrapped++
  }
  // TOTP seeds are sealed under the same secrets, bound to their user.
  const seeds = await listSealedTotpSeeds(database.db)
  const stale = seeds
    .filter((seed) => !box.isCurrent(seed.sealed))
    .map((seed) => ({ ...seed, resealed: box.reseal(seed.sealed, `totp:${seed.userId}`) }))
  let seedsRewrapped = 0
  for (const seed of stale) {
    const written = await resealTotpSeed(database.db, {
      userId: seed.userId,
      sealed: seed.resealed,
      replacing: seed.sealed,
    })
    if (written) seedsRewrapped++
  }
  return {
    total: work.length + current,
    rewrapped,
    sealed,
    current,
    skipped,
    totpSeeds: {
      total: seeds.length,
      rewrapped: seedsRewrapped,
      skipped: stale.length - seedsRewrapped,
    },
  }
}
