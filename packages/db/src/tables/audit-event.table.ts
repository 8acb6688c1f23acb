import type { ColumnType, Insertable, Selectable } from 'kysely'

/** `auth_events`: append-only audit trail (login ok/failed, refresh, reuse, revoke…). */
export interface AuditEventTable {
  id: string
  occurred_at: ColumnType<Date, Date, never>
  type: string
  user_id: string | null
  session_id: string | null
  ip: string | null
  user_agent: string | null
  details: ColumnType<Record<string, unknown> | null, string | null, never>
}

export type AuditEventRow = Selectable<AuditEventTable>
export type NewAuditEventRow = Insertable<AuditEventTable>
