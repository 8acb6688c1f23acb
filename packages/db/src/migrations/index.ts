import type { Kysely } from 'kysely'
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration'
import { DatabaseUnavailable, isUnavailableError, MigrationFailed } from '../errors.js'
import type { BreakwaterSchema } from '../schema.js'
import * as createUsers from './2026_11_25_000001_create_users.js'
import * as createSessions from './2026_11_25_000002_create_sessions.js'
import * as createSigningKeys from './2026_11_25_000003_create_signing_keys.js'
import * as createAuthEvents from './2026_11_25_000004_create_auth_events.js'
import * as createRateLimits from './2026_11_25_000005_create_rate_limits.js'
import * as sealSigningKeys from './2026_12_01_000006_seal_signing_keys.js'
import * as canonicalEmails from './2026_12_01_000007_canonical_emails.js'

/**
 * Every migration, by name. Listed statically (not read from a folder) so the package
 * bundles, and runs where there is no file system to scan (PGlite in a browser or a
 * single-file build). Names sort in the order they must run; append, never edit.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '2026_11_25_000001_create_users': createUsers,
  '2026_11_25_000002_create_sessions': createSessions,
  '2026_11_25_000003_create_signing_keys': createSigningKeys,
  '2026_11_25_000004_create_auth_events': createAuthEvents,
  '2026_11_25_000005_create_rate_limits': createRateLimits,
  '2026_12_01_000006_seal_signing_keys': sealSigningKeys,
  '2026_12_01_000007_canonical_emails': canonicalEmails,
})

/** A kysely `MigrationProvider` over {@link MIGRATIONS}. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
}

/** What {@link migrateToLatest} did. */
export interface MigrationReport {
  /** Names of the migrations this call applied (empty when already up to date). */
  readonly applied: readonly string[]
}

/**
 * Brings the schema up to date. Forward-only: it never runs `down`. Safe to call from
 * many processes at once: kysely's `Migrator` holds a PostgreSQL advisory lock while it
 * works, so instances booting together migrate once and the others find nothing to do.
 *
 * @throws {MigrationFailed} when a migration fails (it is rolled back; the schema stays
 *   at the last good migration). {@link DatabaseUnavailable} when the server is down.
 */
export async function migrateToLatest(db: Kysely<BreakwaterSchema>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    // Driver failures arrive translated (guarded-dialect.ts); a migration's own refusal
    // is a plain Error, which must not pass for an outage.
    if (isUnavailableError(error)) {
      throw error instanceof DatabaseUnavailable
        ? error
        : new DatabaseUnavailable('database unavailable while migrating', { cause: error })
    }
    throw new MigrationFailed(failed, { cause: error })
  }
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
  }
}
