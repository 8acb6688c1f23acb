import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

/**
 * `sessions`: one row per sign-in. The row also holds the refresh-token rotation state
 * (current and previous token hash, when it rotated, the sealed successor), so one
 * `UPDATE … WHERE current_token_hash = $1` both decides and performs a rotation under
 * the row lock PostgreSQL takes for it (see `queries/refresh-tokens.ts`).
 */
export interface SessionTable {
  id: string
  user_id: string
  created_at: ColumnType<Date, Date, never>
  last_used_at: Date
  /** Idle expiry: moved forward by each rotation, never past `expires_at`. */
  idle_expires_at: Date
  /** Absolute expiry: fixed at creation. */
  expires_at: ColumnType<Date, Date, never>
  revoked_at: Date | null
  revoked_reason: string | null
  user_agent: string | null
  ip: string | null
  /** SHA-256 (as produced by `@breakwater/tokens`) of the one live refresh token. */
  current_token_hash: string
  /** Hash of the token `current_token_hash` replaced; accepted within the grace window. */
  previous_token_hash: string | null
  rotated_at: Date | null
  /**
   * The current (successor) token, encrypted by the server under a key derived from the
   * previous token, so a grace-window replay can be answered with the same successor
   * while the database holds no usable token. Opaque to this package.
   */
  successor_sealed: string | null
  /** When the user last proved a factor in this session (SPEC §10); null: at `created_at`. */
  auth_time: ColumnType<Date | null, Date | null | undefined, Date | null>
  /** RFC 8176 methods of that proof, a JSON array; null: `["pwd"]`. */
  amr: ColumnType<string[] | null, string | null | undefined, string | null>
}

export type SessionRow = Selectable<SessionTable>
export type NewSessionRow = Insertable<SessionTable>
export type SessionUpdate = Updateable<SessionTable>
