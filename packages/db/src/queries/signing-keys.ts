import type { Executor } from '../executor.js'
import { inTransaction } from '../executor.js'
import type { SigningKeyRow, SigningKeyState, StoredJwk } from '../tables/signing-key.table.js'
import { instant } from '../values.js'

/**
 * A stored signing key. Its private half is `sealedPrivateKey` (encrypted under the
 * server's key-encryption secret); `privateJwk` is set only on a legacy row written
 * before keys were sealed, until the server seals it on start.
 */
export interface SigningKey {
  readonly kid: string
  readonly alg: string
  readonly state: SigningKeyState
  readonly publicJwk: StoredJwk
  readonly sealedPrivateKey: string | null
  /** Legacy plaintext; `null` on every row written or sealed since migration 000006. */
  readonly privateJwk: StoredJwk | null
  readonly createdAt: Date
  readonly activatedAt: Date | null
  readonly retiredAt: Date | null
  readonly publishUntil: Date | null
}

/** Maps a `signing_keys` row to a {@link SigningKey}. */
export function toSigningKey(row: SigningKeyRow): SigningKey {
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    publicJwk: row.public_jwk,
    sealedPrivateKey: row.sealed_private_key,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    publishUntil: row.publish_until,
  }
}

/** Input of {@link insertSigningKey}. */
export interface NewSigningKey {
  readonly kid: string
  readonly alg: string
  readonly publicJwk: StoredJwk
  /** The private JWK sealed by the caller: this package never sees a private key in clear. */
  readonly sealedPrivateKey: string
  /** Default `pending`: published before it signs (SPEC §4 overlap). */
  readonly state?: SigningKeyState
  readonly now?: Date
}

/** Stores a new key. A second `active` key is refused by a unique index. */
export async function insertSigningKey(db: Executor, input: NewSigningKey): Promise<SigningKey> {
  const now = instant(input.now)
  const state = input.state ?? 'pending'
  if (typeof input.sealedPrivateKey !== 'string' || input.sealedPrivateKey.length === 0) {
    throw new TypeError('sealedPrivateKey is required: private keys are stored sealed only')
  }
  const row = await db
    .insertInto('signing_keys')
    .values({
      kid: input.kid,
      alg: input.alg,
      state,
      // JSON text; both drivers hand it to PostgreSQL as is, which parses it as jsonb.
      public_jwk: JSON.stringify(input.publicJwk),
      sealed_private_key: input.sealedPrivateKey,
      created_at: now,
      activated_at: state === 'active' ? now : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toSigningKey(row)
}

/** Keys in the given states (all when omitted), oldest first. */
export async function listSigningKeys(
  db: Executor,
  options: { readonly states?: readonly SigningKeyState[] } = {},
): Promise<SigningKey[]> {
  let query = db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid')
  if (options.states) {
    if (options.states.length === 0) return []
    query = query.where('state', 'in', options.states)
  }
  return (await query.execute()).map(toSigningKey)
}

/** Input of {@link activateSigningKey}. */
export interface ActivateSigningKey {
  readonly kid: string
  /**
   * Until when the key being replaced stays published: at least now + the access-token
   * lifetime (+ leeway), so every token it signed can still be verified.
   */
  readonly previousPublishUntil: Date
  readonly now?: Date
}

/**
 * Makes `kid` the signing key and retires the one it replaces, atomically (in the
 * caller's transaction if given one). Retire-then-activate inside one transaction keeps
 * the "one active key" index satisfied at every statement.
 *
 * @returns the activated key, or `undefined` when no pending or active key has that kid
 *   (the transaction is then rolled back, leaving the old key active).
 */
export async function activateSigningKey(
  db: Executor,
  input: ActivateSigningKey,
): Promise<SigningKey | undefined> {
  const now = instant(input.now)
  try {
    return await inTransaction(db, async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: now, publish_until: input.previousPublishUntil })
        .where('state', '=', 'active')
        .where('kid', '<>', input.kid)
        .execute()
      const row = await trx
        .updateTable('signing_keys')
        .set((eb) => ({
          state: 'active',
          activated_at: eb.fn.coalesce('activated_at', eb.val(now)),
        }))
        .where('kid', '=', input.kid)
        .where('state', 'in', ['pending', 'active'])
        .returningAll()
        .executeTakeFirst()
      if (!row) throw new NoSuchKey()
      return toSigningKey(row)
    })
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined
    throw error
  }
}

class NoSuchKey extends Error {}

/**
 * Retires a key without activating another (e.g. a compromised pending key).
 *
 * @returns whether a key was retired.
 */
export async function retireSigningKey(
  db: Executor,
  input: { readonly kid: string; readonly publishUntil: Date; readonly now?: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('signing_keys')
    .set({ state: 'retired', retired_at: instant(input.now), publish_until: input.publishUntil })
    .where('kid', '=', input.kid)
    .where('state', '<>', 'retired')
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/**
 * Deletes retired keys whose `publish_until` has passed: no unexpired token can carry
 * their `kid` any more.
 *
 * @returns the deleted kids.
 */
export async function deleteExpiredSigningKeys(db: Executor, now?: Date): Promise<string[]> {
  const rows = await db
    .deleteFrom('signing_keys')
    .where('state', '=', 'retired')
    .where('publish_until', '<', instant(now))
    .returning('kid')
    .execute()
  return rows.map((r) => r.kid)
}

/** Input of {@link sealSigningKey}. */
export interface SealSigningKey {
  readonly kid: string
  /** The private key sealed by the server (`@breakwater/tokens`' secret box). */
  readonly sealedPrivateKey: string
  /**
   * The sealed value this one replaces (a rewrap), or `null` to seal a legacy row whose
   * private key is still in clear. The write happens only if the row still holds it, so
   * two processes sealing at once cannot overwrite each other's work.
   */
  readonly replacing: string | null
}

/**
 * Stores a sealed private key and clears any plaintext one, in one conditional `UPDATE`.
 *
 * @returns whether the row was written (false: someone else changed it first).
 */
export async function sealSigningKey(db: Executor, input: SealSigningKey): Promise<boolean> {
  let query = db
    .updateTable('signing_keys')
    .set({ sealed_private_key: input.sealedPrivateKey, private_jwk: null })
    .where('kid', '=', input.kid)
  query =
    input.replacing === null
      ? query.where('sealed_private_key', 'is', null).where('private_jwk', 'is not', null)
      : query.where('sealed_private_key', '=', input.replacing)
  const result = await query.executeTakeFirst()
  return result.numUpdatedRows > 0n
}
