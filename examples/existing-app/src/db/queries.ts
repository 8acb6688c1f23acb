// The team's queries: plain functions taking a Kysely or a transaction first, so the
// same function runs inside Breakwater's registration transaction.
import type { Kysely, Transaction } from 'kysely'
import type { NewProfile, Profile, TeamDB, TeamUser } from './schema.js'

type Executor = Kysely<TeamDB> | Transaction<TeamDB>

export async function insertProfile(db: Executor, profile: NewProfile): Promise<void> {
  await db.insertInto('profiles').values(profile).execute()
}

export async function findProfile(db: Executor, userId: string): Promise<Profile | undefined> {
  return db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst()
}

export async function listTeamUsers(db: Executor): Promise<TeamUser[]> {
  return db.selectFrom('users').selectAll().orderBy('id').execute()
}
