import { type Kysely, sql } from 'kysely'
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration'
import { DatabaseUnavailable, isUnavailableError, MigrationFailed } from '../errors.js'
import type { BreakwaterSchema } from '../schema.js'
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from './tables.js'

export { MIGRATION_LOCK_TABLE, MIGRATION_TABLE }

import { schemaOf } from '../schema-plugin.js'
import * as createUsers from './2026_11_25_000001_create_users.js'
import * as createSessions from './2026_11_25_000002_create_sessions.js'
import * as createSigningKeys from './2026_11_25_000003_create_signing_keys.js'
import * as createAuthEvents from './2026_11_25_000004_create_auth_events.js'
import * as createRateLimits from './2026_11_25_000005_create_rate_limits.js'
import * as sealSigningKeys from './2026_12_01_000006_seal_signing_keys.js'
import * as canonicalEmails from './2026_12_01_000007_canonical_emails.js'
import * as userFields from './2026_12_01_000008_user_fields.js'
import * as oneTimeTokens from './2026_12_01_000009_one_time_tokens.js'
import * as strongAuth from './2026_12_01_000010_strong_auth.js'
import * as passkeys from './2026_12_01_000011_passkeys.js'
import * as oneTokenPerPurpose from './2026_12_01_000012_one_token_per_purpose.js'
import { adoptLegacyHistory, checkHistory, readHistory } from './history.js'

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
  '2026_12_01_000008_user_fields': userFields,
  '2026_12_01_000009_one_time_tokens': oneTimeTokens,
  '2026_12_01_000010_strong_auth': strongAuth,
  '2026_12_01_000011_passkeys': passkeys,
  '2026_12_01_000012_one_token_per_purpose': oneTokenPerPurpose,
})

const NAMES: readonly string[] = Object.freeze(Object.keys(MIGRATIONS).sort())

/** The newest migration this package knows: the schema version it expects. */
export const LATEST_MIGRATION: string = NAMES.at(-1)!

// kysely's schema plugin qualifies what the builder names, not raw `sql` (a backfill's
// `update users …`). So each migration first points `search_path` at the schema, with
// set_config(…, true): local to the migration transaction (kysely runs them all in one
// on PostgreSQL), so no connection, a team's least of all, keeps the change.
function inSchema(migration: Migration): Migration {
  const scoped =
    (step: Migration['up']): Migration['up'] =>
    async (db) => {
      const schema = schemaOf(db)
      if (schema !== undefined) {
        await sql`select set_config('search_path', ${`"${schema}"`}, true)`.execute(db)
      }
      await step(db)
    }
  const down = migration.down
  return down ? { up: scoped(migration.up), down: scoped(down) } : { up: scoped(migration.up) }
}

/**
 * A kysely `MigrationProvider` over {@link MIGRATIONS}. Give kysely's `Migrator` the
 * schema and table names too (`migrationTableSchema: database.schema`,
 * `migrationTableName: MIGRATION_TABLE`, `migrationLockTableName: MIGRATION_LOCK_TABLE`).
 */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () =>
    Object.fromEntries(Object.entries(MIGRATIONS).map(([name, m]) => [name, inSchema(m)])),
}

/** What {@link migrateToLatest} did. */
export interface MigrationReport {
  /** Names of the migrations this call applied (empty when already up to date). */
  readonly applied: readonly string[]
}

/**
 * Brings the schema up to date: creates `database.schema` if missing, and in it the
 * tables and kysely's migration bookkeeping (`breakwater_migration`, `breakwater_migration_lock`),
 * leaving every other schema alone. Forward-only: it never runs `down`. Safe to call from
 * many processes at once: kysely's `Migrator` holds a PostgreSQL advisory lock while it
 * works, so instances booting together migrate once and the others find nothing to do.
 *
 * @throws {SchemaTooNew} `DB_SCHEMA_TOO_NEW` when a newer `@breakwater/db` migrated it.
 * @throws {MigrationFailed} when a migration fails (it is rolled back; the schema stays
 *   at the last good migration); the message carries PostgreSQL's reason.
 *   {@link DatabaseUnavailable} when the server is down.
 */
export async function migrateToLatest(db: Kysely<BreakwaterSchema>): Promise<MigrationReport> {
  const before = await readHistory(db, NAMES)
  checkHistory(before.schema, before.applied, NAMES)
  if (before.legacy && before.schema !== undefined)
    await adoptLegacyHistory(db, before.schema, NAMES)
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableSchema: schemaOf(db),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
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
    // A newer server may have migrated between our check and the lock.
    if (failed === undefined) {
      const now = await readHistory(db, NAMES).catch(() => undefined)
      if (now) checkHistory(now.schema, now.applied, NAMES)
    }
    throw new MigrationFailed(failed, { cause: error })
  }
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
  }
}

/**
 * Refuses a schema migrated by a newer `@breakwater/db`, without migrating: what
 * `createDatabase(…, { migrate: false })` checks.
 */
export async function checkSchemaVersion(db: Kysely<BreakwaterSchema>): Promise<void> {
  const { schema, applied } = await readHistory(db, NAMES)
  checkHistory(schema, applied, NAMES)
}

/**
 * The migrations {@link migrateToLatest} would apply, in order, without applying any and
 * without creating anything (not even the schema): every name on an empty database.
 * For `breakwater migrate --dry-run`.
 *
 * @throws {SchemaTooNew} `DB_SCHEMA_TOO_NEW`, as {@link migrateToLatest} would.
 */
export async function pendingMigrations(db: Kysely<BreakwaterSchema>): Promise<string[]> {
  const { schema, applied } = await readHistory(db, NAMES)
  checkHistory(schema, applied, NAMES)
  return NAMES.filter((name) => !applied.includes(name))
}
