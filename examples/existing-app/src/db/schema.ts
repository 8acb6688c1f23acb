// The team's own tables, in `public`, typed the kysely way: one interface per table,
// `Generated<>` where the database fills the column.
import type { Generated, Insertable, Selectable } from 'kysely'

/** `public.users`: the team's table from before Breakwater (same name as Breakwater's, another schema). */
export interface UsersTable {
  id: Generated<number>
  handle: string
  created_at: Generated<Date>
}

/** `public.profiles`: one row per Breakwater user, keyed by Breakwater's user id. */
export interface ProfilesTable {
  user_id: string
  company: string
  created_at: Generated<Date>
}

export interface TeamDB {
  users: UsersTable
  profiles: ProfilesTable
}

export type TeamUser = Selectable<UsersTable>
export type Profile = Selectable<ProfilesTable>
export type NewProfile = Insertable<ProfilesTable>
