import type { ColumnType, Insertable, Selectable } from 'kysely'

/**
 * `refresh_tokens`: every refresh-token hash a session has ever issued (its chain).
 * A hash found here that is neither the session's current nor its previous token is an
 * older token of the chain: presenting it is reuse (SPEC §4, rotation rule 2).
 */
export interface RefreshTokenTable {
  token_hash: string
  session_id: string
  issued_at: ColumnType<Date, Date, never>
}

export type RefreshTokenRow = Selectable<RefreshTokenTable>
export type NewRefreshTokenRow = Insertable<RefreshTokenTable>
