// Schema versions, dry runs and the real cause of a failed migration (issue #12).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import pg from 'pg'
import t from 'tap'
import {
  createDatabase,
  type DatabaseError,
  findUserByEmail,
  LATEST_MIGRATION,
  MIGRATIONS,
  MigrationFailed,
  migrate,
  migrationProvider,
  pendingMigrations,
  SchemaTooNew,
} from '../src/index.js'
import { startTestPostgres } from '../src/testing/index.js'
import { migratorFor } from './helpers.js'

const NAMES = Object.keys(MIGRATIONS).sort()
const FUTURE = '2027_01_01_000009_x'
const server = await startTestPostgres()

/** A team-side Kysely on the same database, to look at it from outside. */
function outside(url: string): Kysely<unknown> {
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
  })
}

/** Everything a database holds outside the system schemas, as text. */
async function everything(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ what: string }>`
    select format('%s %s', n.nspname, c.relname) as what from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    union all select 'schema ' || nspname from pg_namespace
    where nspname not like 'pg\\_%' and nspname <> 'information_schema'
    order by 1`.execute(db)
  return rows.map((r) => r.what)
}

t.test('LATEST_MIGRATION is the newest name, one token per purpose last', async (t) => {
  t.equal(LATEST_MIGRATION, NAMES.at(-1))
  t.equal(LATEST_MIGRATION, '2026_12_01_000012_one_token_per_purpose')
})

t.test('a schema migrated by a newer version is refused, in one line naming both', async (t) => {
  const url = await server.createDatabaseUrl()
  const first = await createDatabase(url, { revocationSync: 'off' })
  await sql`insert into breakwater.breakwater_migration (name, timestamp)
    values (${FUTURE}, ${new Date().toISOString()})`.execute(first.db)
  await first.close()

  const expected = `database schema "breakwater" is at ${FUTURE}, newer than this @breakwater/db (${LATEST_MIGRATION}): upgrade it`
  for (const migrateOption of [true, false]) {
    const error = await createDatabase(url, { migrate: migrateOption }).catch((e: unknown) => e)
    t.type(error, SchemaTooNew, `migrate: ${migrateOption}`)
    t.equal((error as DatabaseError).code, 'DB_SCHEMA_TOO_NEW')
    t.equal((error as Error).message, expected)
    t.match(error, {
      schema: 'breakwater',
      databaseVersion: FUTURE,
      packageVersion: LATEST_MIGRATION,
    })
  }
  const dry = await migrate(url, { dryRun: true }).catch((e: unknown) => e)
  t.type(dry, SchemaTooNew, 'a dry run says the same')

  const look = outside(url)
  t.teardown(() => look.destroy())
  const { rows } = await sql<{
    n: number
  }>`select count(*)::int as n from breakwater.breakwater_migration`.execute(look)
  t.equal(rows[0]?.n, NAMES.length + 1, 'and nothing was touched')
})

t.test('PGlite: the same refusal', async (t) => {
  const pglite = new PGlite()
  t.teardown(() => pglite.close())
  const team = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) })
  const first = await createDatabase(team, { schema: 'auth', revocationSync: 'off' })
  await sql`insert into auth.breakwater_migration values (${FUTURE}, ${new Date().toISOString()})`.execute(
    first.db,
  )
  const error = await createDatabase(team, { schema: 'auth' }).catch((e: unknown) => e)
  t.type(error, SchemaTooNew)
  t.match((error as Error).message, `database schema "auth" is at ${FUTURE}`)
})

t.test('pendingMigrations and a dry run create nothing, not even the schema', async (t) => {
  const url = await server.createDatabaseUrl()
  const look = outside(url)
  t.teardown(() => look.destroy())
  const before = await everything(look)

  const database = await createDatabase(url, { migrate: false, revocationSync: 'off' })
  t.same(await pendingMigrations(database.db), NAMES, 'every name on an empty database')
  await database.close()
  const dry = await migrate(url, { dryRun: true, schema: 'auth' })
  t.same(dry, { location: dry.location, schema: 'auth', dryRun: true, pending: NAMES })
  t.same(await everything(look), before, 'nothing was created')

  // Part-way: only what is left.
  const partial = await createDatabase(url, { migrate: false, revocationSync: 'off' })
  t.teardown(() => partial.close())
  const migrator = migratorFor(partial.db, partial.schema)
  t.equal((await migrator.migrateTo('2026_11_25_000005_create_rate_limits')).error, undefined)
  t.same(await pendingMigrations(partial.db), NAMES.slice(5))
  const applied = await migrate(url)
  t.same(applied, {
    location: applied.location,
    schema: 'breakwater',
    dryRun: false,
    applied: NAMES.slice(5),
  })
  t.same(await pendingMigrations(partial.db), [])
})

t.test('an embedded dry run does not create the data directory', async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'bw-dry-'))
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  const dataDir = path.join(parent, 'data')
  const result = await migrate(undefined, { dataDir, dryRun: true })
  t.same(result, { location: dataDir, schema: 'breakwater', dryRun: true, pending: NAMES })
  t.equal(existsSync(dataDir), false, 'not created')
  const applied = await migrate(undefined, { dataDir })
  t.same(!applied.dryRun && applied.applied, NAMES)
  const again = await migrate(undefined, { dataDir, dryRun: true })
  t.same(again.dryRun && again.pending, [], 'then nothing is pending')
})

t.test("a failed migration says PostgreSQL's reason, never the password", async (t) => {
  const url = await server.createDatabaseUrl()
  const password = decodeURIComponent(new URL(url).password)
  const look = outside(url)
  t.teardown(() => look.destroy())
  await sql`create schema breakwater`.execute(look)
  await sql`create table breakwater.users (id int)`.execute(look)

  const error = await createDatabase(url).catch((e: unknown) => e)
  t.type(error, MigrationFailed)
  t.equal((error as MigrationFailed).migration, '2026_11_25_000001_create_users')
  t.equal(
    (error as Error).message,
    'migration 2026_11_25_000001_create_users failed: relation "users" already exists (SQLSTATE 42P07)',
  )
  t.notMatch(JSON.stringify(error), password)
  t.notMatch(String((error as Error).message), password)

  const pglite = new PGlite()
  t.teardown(() => pglite.close())
  await pglite.exec('create schema breakwater; create table breakwater.users (id int)')
  const embedded = await createDatabase(
    new Kysely({ dialect: new PGliteDialect({ pglite }) }),
  ).catch((e: unknown) => e)
  t.type(embedded, MigrationFailed)
  t.match((embedded as Error).message, 'relation "users" already exists', 'on PGlite too')
})

t.test(
  'an older deployment with its tables in public: left alone, or kept with schema public',
  async (t) => {
    const url = await server.createDatabaseUrl()
    const old = outside(url)
    t.teardown(() => old.destroy())
    // What versions before schemas did: everything in the search_path's schema.
    const migrator = new Migrator({ db: old, provider: migrationProvider })
    t.equal((await migrator.migrateTo('2026_12_01_000007_canonical_emails')).error, undefined)
    await sql`insert into public.users (id, email, email_canonical, password_hash, created_at, updated_at)
    values (gen_random_uuid(), 'old@example.com', 'old@example.com', 'h', now(), now())`.execute(
      old,
    )

    const fresh = await createDatabase(url, { revocationSync: 'off' })
    t.equal(
      await findUserByEmail(fresh.db, 'old@example.com'),
      undefined,
      'a fresh breakwater schema',
    )
    await fresh.close()
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from public.users`.execute(
      old,
    )
    t.equal(rows[0]?.n, 1, 'the old tables are not moved')

    const kept = await createDatabase(url, { schema: 'public', revocationSync: 'off' })
    t.teardown(() => kept.close())
    t.same(
      (await findUserByEmail(kept.db, 'old@example.com'))?.fields,
      {},
      'schema public keeps them',
    )
    t.same(await pendingMigrations(kept.db), [])
  },
)
