// SPEC §8: a team passes its own pg.Pool or Kysely instead of a URL. Breakwater uses it
// as it is (settings, search_path, plugins), closes nothing it did not open, and still
// delivers revocations and typed errors.
import { PGlite } from '@electric-sql/pglite'
import { CamelCasePlugin, Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import {
  createDatabase,
  createSession,
  createUser,
  type Database,
  type DatabaseError,
  findUserByEmail,
  inTransaction,
  type RevocationEvent,
  revokeSession,
  teamTransaction,
} from '../src/index.js'
import { startTestPostgres } from '../src/testing/index.js'
import { eventually, fakeHash, newUser } from './helpers.js'

const server = await startTestPostgres()

async function revokeOne(database: Database, writer: Database = database): Promise<string> {
  const user = await newUser(writer.db)
  const session = await createSession(writer.db, {
    userId: user.id,
    refreshTokenHash: fakeHash(),
    idleTtlSeconds: 600,
    maxAgeSeconds: 3600,
  })
  await revokeSession(writer.db, { sessionId: session.id, reason: 'logout' })
  return session.id
}

function heard(database: Database): RevocationEvent[] {
  const events: RevocationEvent[] = []
  database.revocations.subscribe((e) => events.push(e))
  return events
}

/** Typed errors survive any source: the email index maps to EMAIL_TAKEN. */
async function expectTypedErrors(t: Test, database: Database) {
  await createUser(database.db, { email: 'twice@example.com', passwordHash: 'h' })
  const error = await createUser(database.db, {
    email: 'TWICE@example.com',
    passwordHash: 'h',
  }).catch((e: unknown) => e)
  t.equal((error as DatabaseError).code, 'EMAIL_TAKEN')
  const rolledBack = await inTransaction(database.db, async (trx) => {
    await createUser(trx, { email: 'rolled@example.com', passwordHash: 'h' })
    throw new Error('abort')
  }).catch((e: Error) => e.message)
  t.equal(rolledBack, 'abort')
  t.equal(await findUserByEmail(database.db, 'rolled@example.com'), undefined, 'rolled back')
}

t.test('a pg.Pool: used as it is, never closed, LISTEN from its own settings', async (t) => {
  const url = await server.createDatabaseUrl()
  // Settings a team might have, and a password only in the (non-enumerable) option.
  const { password, ...rest } = parseUrl(url)
  const pool = new pg.Pool({ ...rest, password, max: 3, application_name: 'team-app' })
  t.teardown(() => pool.end())
  const settings = JSON.stringify(pool.options)
  const listeners = pool.eventNames().map((name) => [name, pool.listenerCount(name)])

  const database = await createDatabase(pool)
  t.equal(database.kind, 'postgres')
  t.equal(database.revocations.mode, 'notify')
  t.notMatch(database.location, password, 'the location carries no password')
  t.match(database.location, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/bw_test_/)
  await expectTypedErrors(t, database)

  const events = heard(database)
  const revoked = await revokeOne(database)
  t.ok(await eventually(() => events.some((e) => e.sessionId === revoked), 1000), 'LISTEN works')

  t.equal(JSON.stringify(pool.options), settings, "the pool's settings are unchanged")
  t.same(
    pool.eventNames().map((name) => [name, pool.listenerCount(name)]),
    listeners,
    'and no listener was added to it',
  )
  // Every connection the pool holds (hold them all at once to see each one).
  const clients = await Promise.all(Array.from({ length: 3 }, () => pool.connect()))
  for (const client of clients) {
    const { rows } = await client.query(`select current_setting('search_path') as path`)
    t.equal(rows[0].path, '"$user", public', 'search_path untouched')
    client.release()
  }

  await database.close()
  t.equal(pool.ending, false, 'close() left the pool open')
  t.equal((await pool.query('select 1 as one')).rows[0].one, 1, 'and usable')
  const { rows } = await pool.query(
    `select count(*)::int as n from pg_stat_activity where application_name = 'breakwater-revocations'`,
  )
  t.equal(rows[0].n, 0, 'but its own LISTEN connection is gone')
})

t.test('a pg.Pool with options.pool settings is a contradiction', async (t) => {
  const pool = new pg.Pool({ connectionString: await server.createDatabaseUrl() })
  t.teardown(() => pool.end())
  await t.rejects(createDatabase(pool, { pool: { max: 3 } }), TypeError)
})

t.test('a Kysely on PostgreSQL: its plugins stay its own, polling unless listenUrl', async (t) => {
  const url = await server.createDatabaseUrl()
  const team = new Kysely<{ profiles: { userId: string; displayBio: string } }>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
    plugins: [new CamelCasePlugin()],
  })
  t.teardown(() => team.destroy())

  const database = await createDatabase(team, { poll: { intervalMs: 100 } })
  t.equal(database.kind, 'postgres')
  t.equal(database.location, 'kysely')
  t.equal(database.revocations.mode, 'poll', 'a Kysely hides how to open a LISTEN connection')
  await expectTypedErrors(t, database)
  const user = await findUserByEmail(database.db, 'twice@example.com')
  t.equal(
    user?.emailCanonical,
    'twice@example.com',
    "the team's CamelCasePlugin does not touch ours",
  )

  await sql`create table public.profiles (user_id uuid primary key, display_bio text)`.execute(team)
  await inTransaction(database.db, async (trx) => {
    await teamTransaction<{ profiles: { userId: string; displayBio: string } }>(trx)
      .insertInto('profiles')
      .values({ userId: user!.id, displayBio: 'camel' })
      .execute()
  })
  t.same(
    await team.selectFrom('profiles').selectAll().execute(),
    [{ userId: user!.id, displayBio: 'camel' }],
    'teamTransaction gives the team its plugins back',
  )

  const events = heard(database)
  const revoked = await revokeOne(database)
  t.ok(await eventually(() => events.some((e) => e.sessionId === revoked), 1500), 'polled')

  const listening = await createDatabase(team, { listenUrl: url })
  t.equal(listening.revocations.mode, 'notify', 'with listenUrl: LISTEN')
  const fast = heard(listening)
  const again = await revokeOne(listening, database)
  t.ok(await eventually(() => fast.some((e) => e.sessionId === again), 1000))
  await listening.close()

  await database.close()
  t.equal((await sql<{ one: number }>`select 1 as one`.execute(team)).rows[0]?.one, 1, 'still open')
  await team
    .transaction()
    .execute((trx) => t.rejects(createDatabase(trx), TypeError, 'a transaction is no database'))
})

t.test('a Kysely on PGlite: kind pglite, polling, PGlite left open', async (t) => {
  const pglite = new PGlite()
  const team = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) })
  t.teardown(() => pglite.close())
  const database = await createDatabase(team, { poll: { intervalMs: 100 } })
  t.equal(database.kind, 'pglite')
  t.equal(database.revocations.mode, 'poll')
  await expectTypedErrors(t, database)
  const events = heard(database)
  const revoked = await revokeOne(database)
  t.ok(await eventually(() => events.some((e) => e.sessionId === revoked), 1500))
  // Concurrent transactions share PGlite's one connection without deadlocking.
  await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      inTransaction(database.db, (trx) => newUser(trx, `concurrent${i}@example.com`)),
    ),
  )
  await database.close()
  t.equal(pglite.closed, false, 'close() did not close the PGlite it was handed inside a Kysely')
  t.equal(
    (await pglite.query<{ n: number }>('select count(*)::int as n from breakwater.users')).rows[0]
      ?.n,
    7,
  )
})

function parseUrl(url: string) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  }
}
