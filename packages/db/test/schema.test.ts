// Issue #12: Breakwater in a team's existing database. Its tables, indexes, constraints and
// migration bookkeeping live in their own schema; the team's `public` (its own `users`,
// its own kysely migration history) is left exactly as it was.
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import {
  createDatabase,
  createSession,
  type Database,
  type Executor,
  findUserByEmail,
  findUserById,
  hitRateLimit,
  inTransaction,
  listLiveSessions,
  MIGRATIONS,
  type RevocationEvent,
  revocationChannel,
  revokeSession,
  rotateRefreshToken,
  teamTransaction,
} from '../src/index.js'
import { forEachDialect, startTestPostgres } from '../src/testing/index.js'
import { eventually, fakeHash, newUser, sleep } from './helpers.js'

t.test('the schema option must be a plain lower-case identifier', async (t) => {
  for (const schema of ['Breakwater', 'bw-1', '1bw', 'bw.x', 'a"b', '', 'x'.repeat(64), 'pg_bw']) {
    const error = await createDatabase(undefined, { memory: true, schema }).catch((e) => e)
    t.type(error, TypeError, JSON.stringify(schema))
    t.match(String(error.message), /schema must be a plain lower-case identifier/)
  }
  const accepted = await createDatabase(undefined, { memory: true, schema: `_${'x'.repeat(62)}` })
  t.teardown(() => accepted.close())
  t.equal(accepted.schema.length, 63, 'the longest identifier PostgreSQL keeps')
  t.ok(await newUser(accepted.db))
})

t.test('the revocation channel names the schema and fits PostgreSQL', async (t) => {
  t.equal(revocationChannel(), 'breakwater_revocations', 'the default is the old channel')
  t.equal(revocationChannel('auth'), 'auth_revocations')
  const long = revocationChannel(`a${'x'.repeat(62)}`)
  const other = revocationChannel(`b${'x'.repeat(62)}`)
  t.ok(long.length <= 63 && other.length <= 63)
  t.not(long, other, 'long names stay apart')
})

/** Tables, columns, indexes, constraints, functions and triggers of a schema, as text. */
async function catalogue(db: Kysely<unknown>, schema: string): Promise<string> {
  const { rows } = await sql<{ line: string }>`
    select format('%s %s %s %s %s', c.relname, c.relkind, a.attname,
      format_type(a.atttypid, a.atttypmod), a.attnotnull) as line
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = ${schema}
    union all
    select format('constraint %s %s', conname, pg_get_constraintdef(oid)) from pg_constraint
    where connamespace = ${schema}::regnamespace
    union all
    select format('function %s', proname) from pg_proc where pronamespace = ${schema}::regnamespace
    union all
    select format('trigger %s', tgname) from pg_trigger g join pg_class c on c.oid = g.tgrelid
    where c.relnamespace = ${schema}::regnamespace
    order by 1`.execute(db)
  return rows.map((r) => r.line).join('\n')
}

const TEAM_MIGRATIONS = ['2024_01_10_create_users', '2024_02_01_add_profiles']

/** What a team has before installing Breakwater: its own users and kysely history. */
async function seedTeam(db: Kysely<unknown>): Promise<void> {
  await sql`create table public.users (id serial primary key, name text not null, login text unique)`.execute(
    db,
  )
  await sql`insert into public.users (name, login) values ('Ada', 'ada'), ('Grace', 'grace')`.execute(
    db,
  )
  await sql`create table public.kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null)`.execute(
    db,
  )
  await sql`create table public.kysely_migration_lock (id varchar(255) primary key, is_locked integer not null default 0)`.execute(
    db,
  )
  await sql`insert into public.kysely_migration_lock values ('migration_lock', 0)`.execute(db)
  for (const name of TEAM_MIGRATIONS) {
    await sql`insert into public.kysely_migration values (${name}, ${new Date(0).toISOString()})`.execute(
      db,
    )
  }
}

async function teamState(db: Kysely<unknown>) {
  const rows = async (table: string) =>
    (await sql`select * from ${sql.id('public', table)} order by 1`.execute(db)).rows
  return {
    catalogue: await catalogue(db, 'public'),
    users: await rows('users'),
    migrations: await rows('kysely_migration'),
    lock: await rows('kysely_migration_lock'),
  }
}

async function useIt(t: Test, database: Database) {
  const user = await newUser(database.db, 'team.member@example.com')
  const session = await createSession(database.db, {
    userId: user.id,
    refreshTokenHash: fakeHash(),
    idleTtlSeconds: 600,
    maxAgeSeconds: 3600,
  })
  t.equal((await findUserByEmail(database.db, 'TEAM.member@example.com'))?.id, user.id)
  t.same(
    (await listLiveSessions(database.db, user.id)).map((s) => s.id),
    [session.id],
  )
}

t.test(
  "PostgreSQL: a team's public.users and kysely history are left exactly as they were",
  async (t) => {
    const server = await startTestPostgres()
    const url = await server.createDatabaseUrl()
    // The team's own Kysely on its own pool, as it was before Breakwater.
    const probe = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
    })
    t.teardown(() => probe.destroy())
    await seedTeam(probe)
    const before = await teamState(probe)

    const database = await createDatabase(url)
    t.teardown(() => database.close())
    t.equal(database.schema, 'breakwater')
    await useIt(t, database)

    t.same(await teamState(probe), before, 'public: same tables, columns, indexes and rows')
    const { rows } = await sql<{
      name: string
    }>`select name from breakwater.breakwater_migration order by name`.execute(database.db)
    t.same(
      rows.map((r) => r.name),
      Object.keys(MIGRATIONS).sort(),
      "Breakwater's history is its own",
    )
    const ours = await catalogue(probe, 'breakwater')
    for (const name of ['users', 'sessions', 'breakwater_migration', 'breakwater_migration_lock']) {
      t.match(ours, new RegExp(`^${name} r `, 'm'), `breakwater.${name}`)
    }
    const { rows: paths } = await sql<{
      path: string
    }>`select current_setting('search_path') as path`.execute(database.db)
    t.equal(paths[0]?.path, '"$user", public', 'the search_path of the connections is untouched')

    const again = await createDatabase(url)
    t.teardown(() => again.close())
    t.same(await teamState(probe), before, 'and a second start changes nothing either')
  },
)

t.test('PGlite: the same team database, the same untouched public', async (t) => {
  const pglite = new PGlite()
  const probe = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) })
  await seedTeam(probe)
  const before = await teamState(probe)
  const database = await createDatabase(undefined, { pglite })
  t.teardown(() => database.close())
  await useIt(t, database)
  t.same(await teamState(probe), before)
})

t.test('two Breakwater schemas in one PostgreSQL database do not see each other', async (t) => {
  const server = await startTestPostgres()
  const url = await server.createDatabaseUrl()
  const a = await createDatabase(url, { schema: 'tenant_a' })
  const b = await createDatabase(url, { schema: 'tenant_b' })
  const a2 = await createDatabase(url, { schema: 'tenant_a' })
  t.teardown(() => Promise.all([a.close(), b.close(), a2.close()]))
  const heard = { a2: [] as RevocationEvent[], b: [] as RevocationEvent[] }
  a2.revocations.subscribe((e) => heard.a2.push(e))
  b.revocations.subscribe((e) => heard.b.push(e))

  const user = await newUser(a.db, 'same@example.com')
  t.equal(await findUserById(b.db, user.id), undefined, 'a user of A is not in B')
  const twin = await newUser(b.db, 'same@example.com')
  t.not(twin.id, user.id, 'the same email is free in B')

  const session = await createSession(a.db, {
    userId: user.id,
    refreshTokenHash: fakeHash(),
    idleTtlSeconds: 600,
    maxAgeSeconds: 3600,
  })
  await revokeSession(a.db, { sessionId: session.id, reason: 'logout' })
  t.ok(await eventually(() => heard.a2.some((e) => e.sessionId === session.id), 1000), 'A hears A')
  await sleep(200)
  t.same(heard.b, [], 'B hears nothing of A')

  // The raw-SQL paths (rate limits, the prepared rotation with its chain subquery) are
  // qualified too: there is no rate_limits or refresh_tokens outside the two schemas.
  for (const database of [a, b]) {
    const hit = { key: 'k', limit: 1, windowSeconds: 60 }
    t.equal((await hitRateLimit(database.db, hit)).allowed, true)
    t.equal((await hitRateLimit(database.db, hit)).allowed, false)
  }
  const first = fakeHash()
  const s2 = await createSession(b.db, {
    userId: twin.id,
    refreshTokenHash: first,
    idleTtlSeconds: 600,
    maxAgeSeconds: 3600,
  })
  const rotate = (db: Executor, presentedHash: string) =>
    rotateRefreshToken(db, {
      presentedHash,
      newTokenHash: fakeHash(),
      sealedSuccessor: 'sealed',
      graceSeconds: 10,
      idleTtlSeconds: 600,
      limit: { max: 5, windowSeconds: 60 },
    })
  t.same(await rotate(a.db, first), { kind: 'not_found' }, "B's token is unknown in A")
  t.equal((await rotate(b.db, first)).kind, 'rotated')
  t.equal(s2.userId, twin.id)
})

forEachDialect(t, async (t, { db, schema }, dialect) => {
  // The team's view outside any transaction: the same database, without our schema.
  // biome-ignore lint/suspicious/noExplicitAny: the team's tables are untyped here
  const team = db.withoutPlugins() as Kysely<any>
  await sql`create table public.profiles (
    user_id uuid primary key references ${sql.id(schema, 'users')} (id), bio text not null)`.execute(
    team,
  )

  t.test(
    "a team's table in the registration transaction commits and rolls back with it",
    async (t) => {
      const committed = await inTransaction(db, async (trx) => {
        const user = await newUser(trx)
        await teamTransaction(trx)
          .insertInto('profiles')
          .values({ user_id: user.id, bio: 'hi' })
          .execute()
        return user
      })
      const profile = await team
        .selectFrom('profiles')
        .selectAll()
        .where('user_id', '=', committed.id)
        .executeTakeFirst()
      t.same(profile, { user_id: committed.id, bio: 'hi' }, `public.profiles on ${dialect}`)

      let created: string | undefined
      const refused = await inTransaction(db, async (trx) => {
        const user = await newUser(trx)
        created = user.id
        await teamTransaction(trx)
          .insertInto('profiles')
          .values({ user_id: user.id, bio: 'x' })
          .execute()
        throw new Error('beforeCreateUser said no')
      }).catch((e: Error) => e)
      t.equal(refused.message, 'beforeCreateUser said no')
      t.equal(await findUserById(db, created!), undefined, 'the user rolled back')
      t.equal(
        (
          await team
            .selectFrom('profiles')
            .select('user_id')
            .where('user_id', '=', created!)
            .execute()
        ).length,
        0,
        'and the profile with it',
      )
    },
  )

  t.test(
    'kysely: withoutPlugins() drops the schema plugin and keeps the transaction',
    async (t) => {
      await inTransaction(db, async (trx) => {
        t.equal(
          trx.withoutPlugins().selectFrom('users').select('id').compile().sql,
          'select "id" from "users"',
        )
        t.equal(
          trx.selectFrom('users').select('id').compile().sql,
          `select "id" from "${schema}"."users"`,
        )
        t.equal(trx.withoutPlugins().isTransaction, true, 'and keeps the transaction')
        t.equal(teamTransaction(trx).isTransaction, true)
      })
    },
  )
})
