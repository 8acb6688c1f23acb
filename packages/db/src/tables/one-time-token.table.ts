import type { ColumnType, Selectable } from 'kysely'

/** What a one-time token is for (SPEC §9). */
export type OneTimeTokenPurpose =
  | 'verify_email'
  | 'reset_password'
  | 'change_email'
  | 'sign_in_code'
  /** A login waiting for its second factor (SPEC §10): 5 minutes, 5 attempts. */
  | 'mfa_challenge'

/**
 * `one_time_tokens`: at most one row per user and purpose (a unique index); the token itself is never
 * stored, only the server's keyed hash of it.
 */
export interface OneTimeTokenTable {
  id: string
  user_id: string
  purpose: OneTimeTokenPurpose
  token_hash: string
  /** What the token carries besides the user (the new address of an email change). */
  data: ColumnType<Record<string, unknown> | null, string | null, string | null>
  attempts: ColumnType<number, number | undefined, number>
  /** When the live token was issued: a newer one of the same purpose replaces it in place. */
  created_at: Date
  expires_at: Date
  used_at: Date | null
}

export type OneTimeTokenRow = Selectable<OneTimeTokenTable>
