import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

/** A team's extra user fields: a JSON object. */
export type UserFields = Readonly<Record<string, unknown>>

/**
 * `users`: one row per account. The email is unique by its canonical form (unique index
 * on `email_canonical`, see `canonicalEmail`).
 */
export interface UserTable {
  id: string
  /** As entered (after the server's normalisation), for display. */
  email: string
  /** `canonicalEmail(email)`: decides uniqueness and look-up. */
  email_canonical: string
  /** argon2id PHC string; never a password. */
  password_hash: string
  /** Bumped on every password change, so tokens minted before it can be told apart. */
  token_version: ColumnType<number, number | undefined, number>
  display_name: string | null
  /**
   * A team's extra fields (SPEC §8), a JSON object (`{}` by default). Written as JSON
   * text, which both drivers hand to PostgreSQL as is; read back parsed.
   */
  fields: ColumnType<UserFields, string | undefined, string>
  /** When the address was last proven by a verification link (SPEC §9); null: never. */
  email_verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  /** The TOTP seed, sealed by the server under its secret (opaque here); null: none. */
  totp_sealed: ColumnType<string | null, string | null | undefined, string | null>
  /** When TOTP was confirmed; null with a seed: enrolment pending. */
  totp_enabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  /** The last 30-second step a code was accepted for: a code is never used twice. */
  totp_last_step: ColumnType<number | null, number | null | undefined, number | null>
  created_at: ColumnType<Date, Date, never>
  updated_at: Date
}

export type UserRow = Selectable<UserTable>
export type NewUserRow = Insertable<UserTable>
export type UserUpdate = Updateable<UserTable>
