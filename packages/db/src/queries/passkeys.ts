import { sql } from 'kysely'
import type { Executor } from '../executor.js'
import { inTransaction } from '../executor.js'
import type { PasskeyRow, WebAuthnCeremony } from '../tables/passkey.table.js'
import { instant, isStorableText, isUuid, requireNumber } from '../values.js'

export type { WebAuthnCeremony }

/** A user's passkey, as the server verifies and lists it. */
export interface Passkey {
  readonly id: string
  readonly userId: string
  /** base64url, as the authenticator gave it. */
  readonly credentialId: string
  /** The COSE public key, base64url. */
  readonly publicKey: string
  readonly counter: number
  readonly transports: readonly string[]
  /** `multiDevice`: a synced passkey; `singleDevice`: bound to one authenticator. */
  readonly deviceType: 'singleDevice' | 'multiDevice'
  readonly backedUp: boolean
  readonly name: string
  readonly createdAt: Date
  readonly lastUsedAt: Date | null
}

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: Array.isArray(row.transports) ? row.transports : [],
    deviceType: row.device_type,
    backedUp: row.backed_up,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }
}

/** Input of {@link addPasskey}. */
export interface NewPasskey {
  readonly userId: string
  readonly credentialId: string
  readonly publicKey: string
  readonly counter: number
  readonly transports: readonly string[]
  readonly deviceType: 'singleDevice' | 'multiDevice'
  readonly backedUp: boolean
  readonly name: string
  /** The most a user may hold; checked under a lock on the user, so a burst cannot pass it. */
  readonly maxPerUser: number
  readonly now?: Date
}

/**
 * Stores a verified passkey. `'limit'` when the user already holds `maxPerUser`,
 * `'duplicate'` when this credential is registered already (to anyone), `'no-user'`
 * when the user is gone.
 */
export async function addPasskey(
  db: Executor,
  input: NewPasskey,
): Promise<Passkey | 'limit' | 'duplicate' | 'no-user'> {
  requireNumber('maxPerUser', input.maxPerUser, 1)
  requireNumber('counter', input.counter, 0)
  if (!isUuid(input.userId)) return 'no-user'
  return inTransaction(db, async (trx) => {
    // The user's row lock serialises registrations, so the count below stays true.
    const user = await trx
      .selectFrom('users')
      .select('id')
      .where('id', '=', input.userId)
      .forUpdate()
      .executeTakeFirst()
    if (!user) return 'no-user'
    const taken = await trx
      .selectFrom('passkeys')
      .select('user_id')
      .where('credential_id', '=', input.credentialId)
      .executeTakeFirst()
    if (taken) return 'duplicate'
    const held = await trx
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<string>().as('held'))
      .where('user_id', '=', input.userId)
      .executeTakeFirstOrThrow()
    if (Number(held.held) >= input.maxPerUser) return 'limit'
    const row = await trx
      .insertInto('passkeys')
      .values({
        id: crypto.randomUUID(),
        user_id: input.userId,
        credential_id: input.credentialId,
        public_key: input.publicKey,
        counter: input.counter,
        transports: JSON.stringify(input.transports),
        device_type: input.deviceType,
        backed_up: input.backedUp,
        name: input.name,
        created_at: instant(input.now),
      })
      // Two users' locks do not serialise one credential: the loser of that race is
      // a duplicate too, not a unique violation.
      .onConflict((oc) => oc.column('credential_id').doNothing())
      .returningAll()
      .executeTakeFirst()
    return row ? toPasskey(row) : 'duplicate'
  })
}

/** A user's passkeys, oldest first. */
export async function listPasskeys(db: Executor, userId: string): Promise<Passkey[]> {
  if (!isUuid(userId)) return []
  const rows = await db
    .selectFrom('passkeys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map(toPasskey)
}

/** The passkey with this credential id, whoever holds it. */
export async function findPasskeyByCredentialId(
  db: Executor,
  credentialId: string,
): Promise<Passkey | undefined> {
  if (!isStorableText(credentialId) || credentialId.length > 1400) return undefined
  const row = await db
    .selectFrom('passkeys')
    .selectAll()
    .where('credential_id', '=', credentialId)
    .executeTakeFirst()
  return row && toPasskey(row)
}

/** Renames a passkey of this user; `false` when the user holds no such passkey. */
export async function renamePasskey(
  db: Executor,
  input: { userId: string; id: string; name: string },
): Promise<boolean> {
  if (!isUuid(input.userId) || !isUuid(input.id)) return false
  const result = await db
    .updateTable('passkeys')
    .set({ name: input.name })
    .where('id', '=', input.id)
    .where('user_id', '=', input.userId)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Removes a passkey of this user; returns it, or `undefined` when the user holds no such passkey. */
export async function removePasskey(
  db: Executor,
  input: { userId: string; id: string },
): Promise<Passkey | undefined> {
  if (!isUuid(input.userId) || !isUuid(input.id)) return undefined
  const row = await db
    .deleteFrom('passkeys')
    .where('id', '=', input.id)
    .where('user_id', '=', input.userId)
    .returningAll()
    .executeTakeFirst()
  return row && toPasskey(row)
}

/**
 * Records a verified use: the new signature counter and backup state. Conditional on
 * the counter the check read, so of two uses verified against the same counter only
 * one is recorded (`false` for the other); counters that stay 0 (authenticators
 * without one, synced passkeys) always record.
 */
export async function recordPasskeyUse(
  db: Executor,
  input: { id: string; readCounter: number; counter: number; backedUp: boolean; now?: Date },
): Promise<boolean> {
  requireNumber('counter', input.counter, 0)
  const result = await db
    .updateTable('passkeys')
    .set({ counter: input.counter, backed_up: input.backedUp, last_used_at: instant(input.now) })
    .where('id', '=', input.id)
    .where(
      input.counter === 0 && input.readCounter === 0
        ? sql<boolean>`counter = 0`
        : sql<boolean>`counter = ${input.readCounter}`,
    )
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Stores a ceremony's challenge (its digest), single use, for `ttlSeconds`. */
export async function issueWebAuthnChallenge(
  db: Executor,
  input: {
    challengeHash: string
    purpose: WebAuthnCeremony
    userId: string | null
    ttlSeconds: number
    now?: Date
  },
): Promise<void> {
  requireNumber('ttlSeconds', input.ttlSeconds, 1)
  const now = instant(input.now)
  await db
    .insertInto('webauthn_challenges')
    .values({
      challenge_hash: input.challengeHash,
      purpose: input.purpose,
      user_id: input.userId,
      created_at: now,
      expires_at: new Date(now.getTime() + input.ttlSeconds * 1000),
    })
    .execute()
}

/**
 * Takes a live challenge: one atomic delete, so of two responses to one challenge
 * only one gets it. Returns the user it was issued for (`null` for a sign-in), or
 * `undefined` when it is unknown, taken, of another purpose, or expired.
 */
export async function takeWebAuthnChallenge(
  db: Executor,
  input: { challengeHash: string; purpose: WebAuthnCeremony; now?: Date },
): Promise<{ userId: string | null } | undefined> {
  if (!isStorableText(input.challengeHash) || input.challengeHash.length > 128) return undefined
  const row = await db
    .deleteFrom('webauthn_challenges')
    .where('challenge_hash', '=', input.challengeHash)
    .where('purpose', '=', input.purpose)
    .where('expires_at', '>', instant(input.now))
    .returning('user_id')
    .executeTakeFirst()
  return row && { userId: row.user_id }
}

/** Deletes expired challenges (maintenance); returns how many. */
export async function pruneWebAuthnChallenges(db: Executor, now?: Date): Promise<number> {
  const result = await db
    .deleteFrom('webauthn_challenges')
    .where('expires_at', '<=', instant(now))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
