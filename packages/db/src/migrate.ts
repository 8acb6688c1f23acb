import { existsSync } from 'node:fs'
import {
  type CreateDatabaseOptions,
  createDatabase,
  type DatabaseSource,
} from './create-database.js'
import { resolveDataDir } from './data-dir.js'
import { MIGRATIONS, migrateToLatest, pendingMigrations } from './migrations/index.js'
import { checkSchemaName, DEFAULT_SCHEMA } from './schema-plugin.js'

/** Options of {@link migrate}: where, as for `createDatabase`, and whether to only look. */
export interface MigrateOptions
  extends Pick<CreateDatabaseOptions, 'schema' | 'dataDir' | 'memory' | 'pglite' | 'onError'> {
  /** List the pending migrations; apply nothing and create nothing. Default `false`. */
  readonly dryRun?: boolean
}

/** What {@link migrate} did, or with `dryRun`, would do. */
export type MigrateResult = {
  /** The redacted URL, the data directory, … (`Database.location`). */
  readonly location: string
  readonly schema: string
} & (
  | { readonly dryRun: false; readonly applied: readonly string[] }
  | { readonly dryRun: true; readonly pending: readonly string[] }
)

/**
 * Opens the database, applies the pending migrations (or, with `dryRun`, lists them) and
 * closes it again: the whole of a `breakwater migrate [--dry-run]` command. Opens no
 * revocation feed, and on a dry run against an embedded data directory that does not
 * exist yet, not even the directory.
 *
 * @example
 * ```ts
 * const result = await migrate(process.env.DATABASE_URL, { dryRun: true })
 * if (result.dryRun) console.log(result.pending.join('\n'))
 * ```
 *
 * @throws as `createDatabase` does: {@link SchemaTooNew}, {@link MigrationFailed} (with
 *   PostgreSQL's reason in its message), {@link DatabaseUnavailable}, …
 */
export async function migrate(
  source: DatabaseSource,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const { dryRun = false, ...open } = options
  const schema = checkSchemaName(open.schema ?? DEFAULT_SCHEMA)
  const embedded = typeof source !== 'object' && !source?.trim()
  if (dryRun && embedded && !open.pglite && !open.memory) {
    const dataDir = resolveDataDir(open.dataDir)
    if (!existsSync(dataDir)) {
      return { location: dataDir, schema, dryRun, pending: Object.keys(MIGRATIONS).sort() }
    }
  }
  const database = await createDatabase(source, { ...open, migrate: false, revocationSync: 'off' })
  try {
    const { location } = database
    return dryRun
      ? { location, schema, dryRun, pending: await pendingMigrations(database.db) }
      : { location, schema, dryRun, applied: (await migrateToLatest(database.db)).applied }
  } finally {
    await database.close()
  }
}
