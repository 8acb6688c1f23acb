import type { Executor } from '../executor.js'
import { inTransaction } from '../executor.js'
import { instant, isStorableText, isUuid, requireNumber } from '../values.js'
import type { OneTimeToken } from './one-time-tokens.js'

/** A user's TOTP state, for the server's code checks (the seed stays sealed here). */
export interface TotpState {
  /** The seed, sealed by the server; opaque to this package. */
  readonly sealed: string
  /** `null`: enrolment started, not confirmed. */
  readonly enabledAt: Date | null
  /** The last 30-second step a code was accepted for. */
  readonly lastStep: number | null
}

/** The TOTP state of a user, or `undefined` when there is none (or no such user). */
export async function findTotp(db: Executor, userId: string): Promise<TotpState | undefined> {
  if (!isUuid(userId)) return undefined
  const row = await db
    .selectFrom('users')
    .select(['totp_sealed', 'totp_enabled_at', 'totp_last_step'])
    .where('id', '=', userId)
    .executeTakeFirst()
  if (!row?.totp_sealed) return undefined
  return {
    sealed: row.totp_sealed,
    enabledAt: row.totp_enabled_at,
    lastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
  }
}

/**
 * Starts a TOTP enrolment: stores a new sealed seed, not yet enabled, replacing a
 * pending one. Refused (returns `false`) while a confirmed TOTP exists: disable it first.
 */
export async function startTotpEnrolment(
  db: Executor,
  input: { userId: string; sealed: string; now?: Date },
): Promise<boolean> {
  if (!isUuid(input.userId)) return false
  const result = await db
    .updateTable('users')
    .set({
      totp_sealed: input.sealed,
      totp_enabled_at: null,
      totp_last_step: null,
      updated_at: instant(input.now),
    })
    .where('id', '=', input.userId)
    .where('totp_enabled_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Takes a TOTP step, atomically: succeeds only for a step later than the last one
 * accepted, so a code (or an earlier one) is never accepted twice, even by two
 * requests at once. `enable` also confirms a pending enrolment; without it the
 * TOTP must already be enabled.
 */
export async function acceptTotpStep(
  db: Executor,
  input: { userId: string; step: number; enable?: boolean; now?: Date },
): Promise<boolean> {
  requireNumber('step', input.step, 0)
  if (!isUuid(input.userId)) return false
  const now = instant(input.now)
  const result = await db
    .updateTable('users')
    .set({
      totp_last_step: input.step,
      ...(input.enable ? { totp_enabled_at: now } : {}),
      updated_at: now,
    })
    .where('id', '=', input.userId)
    .where('totp_sealed', 'is not', null)
    .where('totp_enabled_at', input.enable ? 'is' : 'is not', null)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', input.step)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Removes the TOTP factor and every recovery code of a user, in one transaction. */
export async function disableTotp(db: Executor, userId: string, now?: Date): Promise<void> {
  if (!isUuid(userId)) return
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable('users')
      .set({
        totp_sealed: null,
        totp_enabled_at: null,
        totp_last_step: null,
        updated_at: instant(now),
      })
      .where('id', '=', userId)
      .execute()
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  })
}

/** Replaces a user's recovery codes with these digests (the codes are shown once, never stored). */
export async function replaceRecoveryCodes(
  db: Executor,
  input: { userId: string; codeHashes: readonly string[]; now?: Date },
): Promise<void> {
  const now = instant(input.now)
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom('recovery_codes').where('user_id', '=', input.userId).execute()
    if (input.codeHashes.length === 0) return
    await trx
      .insertInto('recovery_codes')
      .values(
        input.codeHashes.map((codeHash) => ({
          id: crypto.randomUUID(),
          user_id: input.userId,
          code_hash: codeHash,
          created_at: now,
        })),
      )
      .execute()
  })
}

/** Uses a recovery code: one atomic update, so a code works once, even for two requests at once. */
export async function useRecoveryCode(
  db: Executor,
  input: { userId: string; codeHash: string; now?: Date },
): Promise<boolean> {
  if (!isUuid(input.userId) || !isStorableText(input.codeHash)) return false
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: instant(input.now) })
    .where('user_id', '=', input.userId)
    .where('code_hash', '=', input.codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** How many unused recovery codes a user has left. */
export async function countRecoveryCodes(db: Executor, userId: string): Promise<number> {
  if (!isUuid(userId)) return 0
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('left'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(row?.left ?? 0)
}

/**
 * Counts an attempt at a live login challenge (SPEC §10), found by its digest, before
 * the caller checks the code: a burst of guesses checks at most `maxAttempts`. Returns
 * the challenge, or `undefined` when it is unknown, used, expired or spent. A right
 * code then uses it with `consumeOneTimeToken`.
 */
export async function countChallengeAttempt(
  db: Executor,
  input: { tokenHash: string; maxAttempts: number; now?: Date },
): Promise<OneTimeToken | undefined> {
  requireNumber('maxAttempts', input.maxAttempts, 1)
  if (!isStorableText(input.tokenHash)) return undefined
  const now = instant(input.now)
  const row = await db
    .updateTable('one_time_tokens')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('purpose', '=', 'mfa_challenge')
    .where('token_hash', '=', input.tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', input.maxAttempts)
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

/** Every sealed TOTP seed, by user: what a rotation of the server's secret seals again. */
export async function listSealedTotpSeeds(
  db: Executor,
): Promise<Array<{ userId: string; sealed: string }>> {
  const rows = await db
    .selectFrom('users')
    .select(['id', 'totp_sealed'])
    .where('totp_sealed', 'is not', null)
    .execute()
  return rows.map((row) => ({ userId: row.id, sealed: row.totp_sealed as string }))
}

/**
 * Replaces a sealed seed with the same seed sealed anew, only if the row still holds
 * `replacing` (a re-enrolment meanwhile wins). Returns whether it was written.
 */
export async function resealTotpSeed(
  db: Executor,
  input: { userId: string; sealed: string; replacing: string },
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_sealed: input.sealed })
    .where('id', '=', input.userId)
    .where('totp_sealed', '=', input.replacing)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
