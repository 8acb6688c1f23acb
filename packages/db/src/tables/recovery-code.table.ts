import type { ColumnType, Selectable } from 'kysely'

/** `recovery_codes`: a user's single-use recovery codes (SPEC §10), as keyed digests only. */
export interface RecoveryCodeTable {
  id: string
  user_id: string
  code_hash: string
  created_at: ColumnType<Date, Date, never>
  used_at: Date | null
}

export type RecoveryCodeRow = Selectable<RecoveryCodeTable>
