import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '@breakwater/db'
import { startTestPostgres } from '@breakwater/db/testing'
import pg from 'pg'
import t, { type Test } from 'tap'
import { type Running, startApp } from './process.js'

const SECRET = Buffer.alloc(32, 7).toString('base64url')
const PASSWORD = 'correct horse battery staple 7'

/** A team's database before Breakwater arrives: its own users and its own kysely history. */
const TEAM_SCHEMA = `
  CREATE TABLE public.users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text,
    plan varchar(20) NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro')),
    created_at timestamptz NOT NULL DEFAULT '2024-01-02T03:04:05Z'
  );
  CREATE INDEX users_plan_idx ON public.users (plan);
  CREATE TABLE public.posts (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    title text NOT NULL
  );
  CREATE SEQUENCE public.invoice_numbers START 1000;
  CREATE VIEW public.pro_users AS SELECT id, email FROM public.users WHERE plan = 'pro';
  CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch();
  INSERT INTO public.users (email, full_name, plan) VALUES
    ('ada@team.example', 'Ada', 'pro'),
    ('grace@team.example', 'Grace', 'free'),
    ('someone@example.com', 'Same address as a Breakwater user', 'free');
  INSERT INTO public.posts (user_id, title) VALUES (1, 'hello'), (2, 'world');
  SELECT nextval('public.invoice_numbers');

  -- kysely's own bookkeeping, as the team's migrator left it
  CREATE TABLE public.kysely_migration (name varchar(255) PRIMARY KEY, timestamp varchar(255) NOT NULL);
  CREATE TABLE public.kysely_migration_lock (id varchar(255) PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
  INSERT INTO public.kysely_migration VALUES
    ('2024_01_01_00_00_00_team_users', '2024-01-01T00:00:00.000Z'),
    ('2024_02_01_00_00_00_team_posts', '2024-02-01T00:00:00.000Z');
  INSERT INTO public.kysely_migration_lock VALUES ('migration_lock', 0);
`

const TEAM_TABLES = ['users', 'posts', 'kysely_migration', 'kysely_migration_lock']

/**
 * Everything PostgreSQL's catalogue says about `public`, and the rows of the
 * team's tables: tables, views, sequences (with their state), columns, indexes,
 * constraints, triggers, functions, the schema's owner and privileges.
 */
async function snapshotPublic(client: pg.Client): Promise<Record<string, unknown>> {
  const rows = async (text: string) => (await client.query(text)).rows
  const snapshot: Record<string, unknown> = {
    schema: await rows(`
      SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl
      FROM pg_namespace WHERE nspname = 'public'`),
    relations: await rows(`
      SELECT c.relname, c.relkind, c.relacl::text AS acl, c.reloptions::text AS options
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' ORDER BY c.relname`),
    columns: await rows(`
      SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
             is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = 'public'
      ORDER BY table_name, ordinal_position`),
    indexes: await rows(`
      SELECT tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' ORDER BY tablename, indexname`),
    constraints: await rows(`
      SELECT c.conrelid::regclass::text AS "table", c.conname, c.contype,
             pg_get_constraintdef(c.oid) AS definition
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = 'public' ORDER BY 1, 2`),
    sequences: await rows(`
      SELECT sequencename, data_type::text, start_value::text, increment_by::text,
             last_value::text
      FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`),
    triggers: await rows(`
      SELECT t.tgrelid::regclass::text AS "table", t.tgname, pg_get_triggerdef(t.oid) AS definition
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2`),
    functions: await rows(`
      SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prosrc
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' ORDER BY 1, 2`),
    types: await rows(`
      SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' ORDER BY 1`),
  }
  for (const table of TEAM_TABLES) {
    snapshot[`rows:${table}`] = await rows(
      `SELECT * FROM public.${client.escapeIdentifier(table)} ORDER BY 1`,
    )
  }
  return snapshot
}

async function connect(t: Test, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  return client
}

/** SIGTERM, and wait for the exit (bounded: SIGKILL after 10 s). */
async function stop(app: Running): Promise<number | null> {
  if (app.child.exitCode !== null) return app.child.exitCode
  app.child.kill('SIGTERM')
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 10_000)
  const code = await app.exited
  clearTimeout(timer)
  return code
}

/** register + me over HTTP, in cookie transport as a browser would. */
async function signUpAndMe(t: Test, url: string, email: string): Promise<void> {
  const registered = await fetch(`${url}/trpc/auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  t.equal(registered.status, 200, 'register')
  const cookie = registered.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ')
  const me = await fetch(`${url}/trpc/auth.me`, { headers: { cookie } })
  t.equal(me.status, 200, 'me')
  const body = (await me.json()) as { result: { data: { user: { email: string } } } }
  t.equal(body.result.data.user.email, email)
}

const server = await startTestPostgres()

t.test('a team database: public left exactly as it was', async (t) => {
  const url = await server.createDatabaseUrl()
  const client = await connect(t, url)
  await client.query(TEAM_SCHEMA)
  const before = await snapshotPublic(client)
  t.equal((before['rows:users'] as unknown[]).length, 3, 'the snapshot sees the team rows')

  const app = await startApp({ DATABASE_URL: url, BREAKWATER_SECRET: SECRET, LOG_LEVEL: 'warn' })
  t.teardown(() => stop(app))
  t.equal((await fetch(`${app.url}/readyz`)).status, 200, 'ready')
  await signUpAndMe(t, app.url, 'someone@example.com')
  t.equal(await stop(app), 0, 'a clean shutdown')

  t.same(await snapshotPublic(client), before, 'public: same catalogue, same rows')
  const own = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'breakwater'`,
  )
  const tables = own.rows.map((row) => row.table_name)
  t.ok(tables.includes('users'), "Breakwater's users live in breakwater")
  t.ok(tables.includes(MIGRATION_TABLE), 'beside its own migration history')
  t.ok(tables.includes(MIGRATION_LOCK_TABLE), 'and its own lock table')
  const history = await client.query<{ count: string }>(
    `SELECT count(*) FROM breakwater.${client.escapeIdentifier(MIGRATION_TABLE)}`,
  )
  t.ok(Number(history.rows[0]?.count) > 0)
  const users = await client.query('SELECT email FROM breakwater.users')
  t.same(users.rows, [{ email: 'someone@example.com' }])

  // A second start finds its history in its own schema, not the team's.
  const again = await startApp({ DATABASE_URL: url, BREAKWATER_SECRET: SECRET, LOG_LEVEL: 'warn' })
  t.teardown(() => stop(again))
  t.equal((await fetch(`${again.url}/readyz`)).status, 200, 'ready again')
  t.equal(await stop(again), 0)
  t.same(await snapshotPublic(client), before, 'still the same after a restart')

  // The snapshot notices a change of the kind a stray migration would make.
  await client.query('CREATE INDEX users_created_idx ON public.users (created_at)')
  t.notSame(await snapshotPublic(client), before, 'the comparison is not blind')
})

t.test('DATABASE_SCHEMA puts every table in the schema it names', async (t) => {
  const url = await server.createDatabaseUrl()
  const client = await connect(t, url)
  await client.query(TEAM_SCHEMA)
  const before = await snapshotPublic(client)
  const app = await startApp({
    DATABASE_URL: url,
    BREAKWATER_SECRET: SECRET,
    DATABASE_SCHEMA: 'team_auth',
    LOG_LEVEL: 'warn',
  })
  t.teardown(() => stop(app))
  await signUpAndMe(t, app.url, 'schema@example.com')
  t.equal(await stop(app), 0)
  const schemas = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname IN ('breakwater', 'team_auth') ORDER BY 1`,
  )
  t.same(schemas.rows, [{ nspname: 'team_auth' }], 'team_auth, and no breakwater schema')
  const users = await client.query('SELECT email FROM team_auth.users')
  t.same(users.rows, [{ email: 'schema@example.com' }])
  t.same(await snapshotPublic(client), before, 'public untouched here too')
})
