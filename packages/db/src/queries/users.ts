import { canonicalEmail } from '../email.js'
import { EmailTaken, QueryFailed } from '../errors.js'
import type { Executor } from '../executor.js'
import type { UserFields, UserRow } from '../tables/user.table.js'
import { instant, isStorableText, isUuid } from '../values.js'

/** A user as the server sees it. `passwordHash` is an argon2id PHC string. */
export interface User {
  readonly id: string
  /** As typed at sign-up: for display and for sending mail. */
  readonly email: string
  /** {@link canonicalEmail} of `email`: what uniqueness, look-up and rate limits use. */
  readonly emailCanonical: string
  readonly displayName: string | null
  readonly passwordHash: string
  readonly tokenVersion: number
  /** The team's extra fields (SPEC §8); `{}` when it has none. */
  readonly fields: UserFields
  /** When a verification link proved the address (SPEC §9); `null`: not verified. */
  readonly emailVerifiedAt: Date | null
  /** When a TOTP second factor was confirmed (SPEC §10); `null`: none. */
  readonly totpEnabledAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** Input of {@link createUser}. */
export interface NewUser {
  /** Defaults to `crypto.randomUUID()`. */
  readonly id?: string
  /**
   * Stored as given, for display; uniqueness and look-ups use its {@link canonicalEmail}
   * form, so fullwidth, case and `İ`/`i` variants are one account.
   */
  readonly email: string
  readonly passwordHash: string
  readonly displayName?: string | null
  /**
   * The team's extra fields, already validated by the caller (the server's zod schema):
   * a plain JSON object of at most 64 KiB as JSON text. Default `{}`.
   */
  readonly fields?: UserFields
  readonly now?: Date
}

/** Maps a `users` row to a {@link User}. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    emailCanonical: row.email_canonical,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    tokenVersion: row.token_version,
    fields: row.fields,
    emailVerifiedAt: row.email_verified_at,
    totpEnabledAt: row.totp_enabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

// The unique index on the canonical form (migration 000007), and the `lower(email)` one
// it replaced, in case a query runs against a database still migrating.
const EMAIL_KEYS = new Set(['users_email_canonical_key', 'users_email_lower_key'])

/**
 * Creates a user, filling `email_canonical` with {@link canonicalEmail} of the address.
 *
 * @throws {EmailTaken} (`EMAIL_TAKEN`) when an account has the same canonical email
 *   (any letter case, fullwidth forms, `İ` for `i`), including a concurrent sign-up.
 * @throws {InvalidInput} (`DB_INVALID_INPUT`) for an over-long or unstorable value.
 */
export async function createUser(db: Executor, input: NewUser): Promise<User> {
  const now = instant(input.now)
  try {
    const row = await db
      .insertInto('users')
      .values({
        id: input.id ?? crypto.randomUUID(),
        email: input.email,
        email_canonical: canonicalEmail(input.email),
        password_hash: input.passwordHash,
        display_name: input.displayName ?? null,
        fields: fieldsJson(input.fields ?? {}),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toUser(row)
  } catch (error) {
    throw emailTakenOr(error)
  }
}

// The guarded driver reports a violated constraint by name (never by message).
function emailTakenOr(error: unknown): unknown {
  return error instanceof QueryFailed &&
    error.sqlState === '23505' &&
    EMAIL_KEYS.has(error.constraint ?? '')
    ? new EmailTaken({ cause: error })
    : error
}

// Serialised here, not by the driver: `pg` would send an array as a PostgreSQL array,
// and a caller's class instance or cycle must fail as the caller's bug it is.
function fieldsJson(fields: UserFields): string {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new TypeError('@breakwater/db: user fields must be a plain object')
  }
  const json = JSON.stringify(fields)
  if (typeof json !== 'string') throw new TypeError('@breakwater/db: user fields are not JSON')
  return json
}

/**
 * Finds a user by email: by its {@link canonicalEmail} form, through the unique index, so
 * `ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ`, `ADA@example.com` and ` ada@example.com ` find one user.
 */
export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  if (!isStorableText(email)) return undefined
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email_canonical', '=', canonicalEmail(email))
    .executeTakeFirst()
  return row && toUser(row)
}

/** Finds a user by id; an id that is not a UUID finds nothing (rather than failing). */
export async function findUserById(db: Executor, id: string): Promise<User | undefined> {
  if (!isUuid(id)) return undefined
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toUser(row)
}

/** Input of {@link updatePasswordHash}. */
export interface PasswordUpdate {
  readonly userId: string
  readonly passwordHash: string
  readonly now?: Date
}

/**
 * Replaces the password hash and bumps `tokenVersion` in one statement. Ending the
 * other sessions is the caller's next step (`revokeUserSessions` with
 * `exceptSessionId`), in the same transaction when both must hold together.
 *
 * @returns the updated user, or `undefined` when there is no such user.
 */
export async function updatePasswordHash(
  db: Executor,
  input: PasswordUpdate,
): Promise<User | undefined> {
  if (!isUuid(input.userId)) return undefined
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      password_hash: input.passwordHash,
      token_version: eb('token_version', '+', 1),
      updated_at: instant(input.now),
    }))
    .where('id', '=', input.userId)
    .returningAll()
    .executeTakeFirst()
  return row && toUser(row)
}

/**
 * Replaces the user's extra fields (SPEC §8) with `fields`, whole: merging is the
 * caller's (the server validates the result against the team's schema first).
 *
 * @example
 * ```ts
 * await updateUserFields(db, user.id, { ...user.fields, plan: 'pro' })
 * ```
 *
 * @returns the updated user, or `undefined` when there is no such user.
 * @throws {InvalidInput} (`DB_INVALID_INPUT`) when the JSON text exceeds 64 KiB.
 */
export async function updateUserFields(
  db: Executor,
  userId: string,
  fields: UserFields,
  now?: Date,
): Promise<User | undefined> {
  const json = fieldsJson(fields)
  if (!isUuid(userId)) return undefined
  const row = await db
    .updateTable('users')
    .set({ fields: json, updated_at: instant(now) })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst()
  return row && toUser(row)
}

/** Input of {@link changeUserEmail}. */
export interface EmailChange {
  readonly userId: string
  /** The new address, proved by a link mailed to it: it is stored as verified. */
  readonly email: string
  readonly now?: Date
}

/**
 * Moves a user to a new address (SPEC §9 `auth.confirmEmailChange`), verified, since
 * the change is confirmed from the new mailbox.
 *
 * @returns the updated user, or `undefined` when there is no such user.
 * @throws {EmailTaken} (`EMAIL_TAKEN`) when another account has the canonical address
 *   (it registered after the change was requested).
 */
export async function changeUserEmail(db: Executor, input: EmailChange): Promise<User | undefined> {
  if (!isUuid(input.userId) || !isStorableText(input.email)) return undefined
  const at = instant(input.now)
  try {
    const row = await db
      .updateTable('users')
      .set({
        email: input.email,
        email_canonical: canonicalEmail(input.email),
        email_verified_at: at,
        updated_at: at,
      })
      .where('id', '=', input.userId)
      .returningAll()
      .executeTakeFirst()
    return row && toUser(row)
  } catch (error) {
    throw emailTakenOr(error)
  }
}

/**
 * Deletes a user with its sessions, refresh tokens and one-time tokens (foreign keys
 * cascade). End the sessions first (`revokeUserSessions`, in the same transaction) so
 * every instance hears of it. The audit trail keeps its rows: they name the user by id
 * only. A team table that references `users` without `on delete cascade` makes this
 * fail: delete those rows first (the `beforeDeleteUser` hook of the server).
 *
 * @returns whether the user existed.
 */
export async function deleteUser(db: Executor, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false
  const result = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}
