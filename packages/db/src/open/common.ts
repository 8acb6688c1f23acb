import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import type { CreateDatabaseOptions, Database } from '../create-database.js'
import { DatabaseUnavailable, translateError } from '../errors.js'
import { checkSchemaVersion, migrateToLatest } from '../migrations/index.js'
import type { RevocationHub } from '../revocation/feed.js'
import type { BreakwaterSchema } from '../schema.js'
import { BreakwaterSchemaPlugin } from '../schema-plugin.js'

// What every engine's opener shares: the schema view, migrating, ping, the handle.

export const noop = () => {}

/** Breakwater's view of a Kysely: every table qualified with `schema`. */
export function inSchema(
  base: Kysely<BreakwaterSchema>,
  schema: string,
  outer: BreakwaterSchemaPlugin['outer'] = [],
): Kysely<BreakwaterSchema> {
  return base.withPlugin(new BreakwaterSchemaPlugin(schema, outer))
}

/** Migrates, or with `migrate: false` only refuses a schema a newer version migrated. */
export async function prepareSchema(
  db: Kysely<BreakwaterSchema>,
  options: CreateDatabaseOptions,
): Promise<void> {
  if (options.migrate ?? true) await migrateToLatest(db)
  else await checkSchemaVersion(db)
}

export async function ping(db: Kysely<BreakwaterSchema>, location: string): Promise<void> {
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    // Whatever the driver said (refused, timed out, bad credentials, no such database):
    // the database cannot be used, which is what ping and /readyz report.
    throw new DatabaseUnavailable(`cannot reach the database at ${location}`, {
      cause: translateError(error),
    })
  }
}

export function finish(
  kind: Database['kind'],
  schema: string,
  db: Kysely<BreakwaterSchema>,
  hub: RevocationHub,
  location: string,
  dataDir: string | undefined,
): Database {
  let closing: Promise<void> | undefined
  return Object.freeze({
    kind,
    schema,
    db,
    revocations: hub,
    location,
    dataDir,
    ping: () => ping(db, location),
    close: () => {
      closing ??= (async () => {
        await hub.source?.stop()
        // Ends only what Breakwater opened: a team's pool or Kysely has a no-op end.
        await db.destroy()
      })()
      return closing
    },
  })
}
