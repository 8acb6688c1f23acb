import type { Executor } from '../executor.js'
import { inTransaction } from '../executor.js'
import type { OneTimeTokenPurpose } from '../tables/one-time-token.table.js'
import { instant, isStorableText, isUuid, requireNumber } from '../values.js'

export type { OneTimeTokenPurpose }

/** Input of {@link issueOneTimeToken}. */
export interface NewOneTimeToken {
  readonly userId: string
  readonly purpose: OneTimeTokenPurpose
  /** The server's keyed hash of the token (never the token). */
  readonly tokenHash: string
  readonly ttlSeconds: number
  /** What the token carries (the new address of an email change). */
  readonly data?: Readonly<Record<string, unknown>>
  readonly now?: Date
}

/** A live one-time token, as a consume or a code check returns it. */
export interface OneTimeToken {
  readonly id: string
  readonly userId: string
  readonly purpose: OneTimeTokenPurpose
  readonly data: Readonly<Record<string, unknown>> | null
  readonly expiresAt: Date
}

/**
 * Stores a new one-time token for a user and purpose, replacing any older one of the
 * same purpose (SPEC §9: "a newer one voids the older"). One `INSERT … ON CONFLICT`
 * against the unique (user, purpose) index: however many requests issue at once, on
 * however many instances, one row is left, holding the token written last; a replaced
 * token starts afresh (unused, no attempts counted).
 */
export async function issueOneTimeToken(db: Executor, input: NewOneTimeToken): Promise<void> {
  requireNumber('ttlSeconds', input.ttlSeconds, 1)
  const now = instant(input.now)
  await db
    .insertInto('one_time_tokens')
    .values({
      id: crypto.randomUUID(),
      user_id: input.userId,
      purpose: input.purpose,
      token_hash: input.tokenHash,
      data: input.data === undefined ? null : JSON.stringify(input.data),
      created_at: now,
      expires_at: new Date(now.getTime() + input.ttlSeconds * 1000),
    })
    .onConflict((oc) =>
      oc.columns(['user_id', 'purpose']).doUpdateSet((eb) => ({
        id: eb.ref('excluded.id'),
        token_hash: eb.ref('excluded.token_hash'),
        data: eb.ref('excluded.data'),
        attempts: 0,
        created_at: eb.ref('excluded.created_at'),
        expires_at: eb.ref('excluded.expires_at'),
        used_at: null,
      })),
    )
    .execute()
}

/**
 * Uses a token: one atomic update that succeeds for exactly one caller, and only while
 * the token is unused and unexpired. Unknown, used, replaced or expired: `undefined`.
 */
export async function consumeOneTimeToken(
  db: Executor,
  input: { purpose: OneTimeTokenPurpose; tokenHash: string; now?: Date },
): Promise<OneTimeToken | undefined> {
  if (!isStorableText(input.tokenHash)) return undefined
  const now = instant(input.now)
  const row = await db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('purpose', '=', input.purpose)
    .where('token_hash', '=', input.tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'user_id', 'purpose', 'data', 'expires_at'])
    .executeTakeFirst()
  return (
    row && {
      id: row.id,
      userId: row.user_id,
      purpose: row.purpose,
      data: row.data,
      expiresAt: row.expires_at,
    }
  )
}

/**
 * Checks a short code (a sign-in code) of a user: counts the attempt first, atomically,
 * so a burst of guesses checks at most `maxAttempts` of them; a match uses the code.
 * `matched: false` also when there is no live code or its attempts are spent.
 */
export async function checkOneTimeCode(
  db: Executor,
  input: {
    userId: string
    purpose: OneTimeTokenPurpose
    tokenHash: string
    maxAttempts: number
    now?: Date
  },
): Promise<{ matched: false } | { matched: true; token: OneTimeToken }> {
  requireNumber('maxAttempts', input.maxAttempts, 1)
  if (!isUuid(input.userId) || !isStorableText(input.tokenHash)) return { matched: false }
  const now = instant(input.now)
  return inTransaction(db, async (trx) => {
    const counted = await trx
      .updateTable('one_time_tokens')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('user_id', '=', input.userId)
      .where('purpose', '=', input.purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where('attempts', '<', input.maxAttempts)
      .returning(['id', 'token_hash'])
      .executeTakeFirst()
    if (!counted || counted.token_hash !== input.tokenHash) return { matched: false as const }
    const token = await consumeOneTimeToken(trx, {
      purpose: input.purpose,
      tokenHash: input.tokenHash,
      now,
    })
    return token ? { matched: true as const, token } : { matched: false as const }
  })
}

/** Deletes used and expired tokens (housekeeping); returns how many. */
export async function pruneOneTimeTokens(db: Executor, now?: Date): Promise<number> {
  const at = instant(now)
  const result = await db
    .deleteFrom('one_time_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', at), eb('used_at', 'is not', null)]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Records that the user proved the address; returns whether the user exists. */
export async function markEmailVerified(
  db: Executor,
  userId: string,
  now?: Date,
): Promise<boolean> {
  if (!isUuid(userId)) return false
  const at = instant(now)
  const result = await db
    .updateTable('users')
    .set({ email_verified_at: at, updated_at: at })
    .where('id', '=', userId)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
