// The team's own kysely migrations: their history in `public.kysely_migration`, as
// before Breakwater. Breakwater's history is `breakwater.breakwater_migration`, so
// this Migrator never mistakes it for its own.
import type { Kysely } from 'kysely'
import { type Migration, Migrator } from 'kysely/migration'
import * as createUsers from './migrations/2024_03_01_000001_create_users.js'
import * as createProfiles from './migrations/2026_12_01_000001_create_profiles.js'
import type { TeamDB } from './schema.js'

/** Listed, not read from a folder: they bundle, and run the same on PGlite. */
export const TEAM_MIGRATIONS: Record<string, Migration> = {
  '2024_03_01_000001_create_users': createUsers,
  '2026_12_01_000001_create_profiles': createProfiles,
}

/** Applies the team's migrations (up to `to`, default all); throws on the first failure. */
export async function migrateTeam(db: Kysely<TeamDB>, to?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => TEAM_MIGRATIONS },
  })
  const { error, results } = to ? await migrator.migrateTo(to) : await migrator.migrateToLatest()
  const failed = results?.find((result) => result.status === 'Error')
  if (error !== undefined || failed) {
    const detail = error instanceof Error ? error.message : String(error ?? '')
    throw new Error(`team migration ${failed?.migrationName ?? ''} failed: ${detail}`)
  }
  return (results ?? []).map((result) => result.migrationName)
}
