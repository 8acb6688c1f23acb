import { type Kysely, sql } from 'kysely'
import { MigrationFailed, SchemaTooNew } from '../errors.js'
import type { BreakwaterSchema } from '../schema.js'
import { schemaOf } from '../schema-plugin.js'
import { LEGACY_MIGRATION_TABLE, MIGRATION_TABLE } from './tables.js'

/**
 * The schema whose migration table `db` uses: its Breakwater schema, or for a Kysely
 * without one, the first schema of its `search_path` (where kysely keeps its table then).
 * `undefined` when that names no existing schema: nothing was ever migrated there.
 */
async function historySchema(db: Kysely<BreakwaterSchema>): Promise<string | undefined> {
  const schema = schemaOf(db)
  if (schema !== undefined) return schema
  const { rows } = await sql<{ s: string | null }>`select current_schema() as s`.execute(db)
  return rows[0]?.s ?? undefined
}

/**
 * Names in the migration table of `db`'s schema, read from the catalogue first so that
 * nothing is created (not even the schema) when nothing exists yet.
 */
export async function readHistory(
  db: Kysely<BreakwaterSchema>,
  known: readonly string[],
): Promise<{
  readonly schema: string | undefined
  readonly applied: readonly string[]
  /** The history is in kysely's default table, where versions before 0.2 kept it. */
  readonly legacy: boolean
}> {
  const schema = await historySchema(db)
  if (schema === undefined) return { schema, applied: [], legacy: false }
  if (!(await tableExists(db, schema, MIGRATION_TABLE))) {
    const legacy = await legacyHistory(db, schema, known)
    return { schema, applied: legacy, legacy: legacy.length > 0 }
  }
  const names = await sql<{ name: string }>`select name from ${sql.id(
    schema,
    MIGRATION_TABLE,
  )}`.execute(db)
  return { schema, applied: names.rows.map((r) => r.name), legacy: false }
}

async function tableExists(db: Kysely<BreakwaterSchema>, schema: string, table: string) {
  const { rows } = await sql<{ found: boolean }>`select exists (
      select 1 from pg_catalog.pg_tables
      where schemaname = ${schema} and tablename = ${table}) as found`.execute(db)
  return rows[0]?.found === true
}

// Versions that kept everything in one schema used kysely's default table; only
// Breakwater's own names count (a team's history may share that table).
async function legacyHistory(
  db: Kysely<BreakwaterSchema>,
  schema: string,
  known: readonly string[],
): Promise<string[]> {
  if (!(await tableExists(db, schema, LEGACY_MIGRATION_TABLE))) return []
  const { rows } = await sql<{ name: string }>`select name from ${sql.id(
    schema,
    LEGACY_MIGRATION_TABLE,
  )} where name in (${sql.join(known)})`.execute(db)
  return rows.map((row) => row.name)
}

/**
 * Copies Breakwater's rows of a legacy history into its own table (created as kysely
 * creates it), so `schema: 'public'` keeps using an older deployment's tables.
 */
export async function adoptLegacyHistory(
  db: Kysely<BreakwaterSchema>,
  schema: string,
  known: readonly string[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`create table if not exists ${sql.id(schema, MIGRATION_TABLE)} (
      name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(trx)
    await sql`insert into ${sql.id(schema, MIGRATION_TABLE)} (name, timestamp)
      select name, timestamp from ${sql.id(schema, LEGACY_MIGRATION_TABLE)}
      where name in (${sql.join(known)}) on conflict do nothing`.execute(trx)
  })
}

/**
 * Refuses a history holding migrations `known` lacks: the database was migrated by a newer
 * `@breakwater/db` ({@link SchemaTooNew}), or by something else ({@link MigrationFailed}).
 * Kysely would refuse too, but with "corrupted migrations", which reads like damage.
 */
export function checkHistory(
  schema: string | undefined,
  applied: readonly string[],
  known: readonly string[],
): void {
  const unknown = applied.filter((name) => !known.includes(name)).sort()
  const newest = unknown.at(-1)
  if (newest === undefined) return
  const latest = known.at(-1) ?? '(none)'
  if (newest > latest) throw new SchemaTooNew(schema ?? '(search_path)', newest, latest)
  throw new MigrationFailed(undefined, {
    cause: new Error(
      `database schema "${schema}" has applied ${newest}, which this @breakwater/db does not know`,
    ),
  })
}
