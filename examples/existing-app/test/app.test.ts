// The example end to end, with node:test (it also runs outside the workspace, where
// tap is not installed): a team's database as it stood before Breakwater, then the
// app with Breakwater, its client, its guarded route and its single-page app's origin.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createBreakwaterClient, memoryTokenStore, readReason } from '@breakwater/client'
import { sql } from 'kysely'
import superjson from 'superjson'
import { type RunningApp, startApp } from '../src/app.js'
import { openTeamDatabase, type TeamDatabase } from '../src/db/connect.js'
import { migrateTeam, TEAM_MIGRATIONS } from '../src/db/migrate.js'
import type { AppRouter } from '../src/router.js'

const PASSWORD = 'a sturdy passphrase 42'
const FOREIGN = 'http://127.0.0.1:1'
const uniqueEmail = (tag: string) => `${tag}-${randomUUID()}@example.com`

let team: TeamDatabase
let app: RunningApp
let teamUsersBefore: unknown[]

before(async () => {
  // The team's database as it was: its first migration, its users, no Breakwater.
  team = await openTeamDatabase({ memory: true })
  await migrateTeam(team.db, '2024_03_01_000001_create_users')
  await team.db
    .insertInto('users')
    .values([{ handle: 'ada' }, { handle: 'grace' }])
    .execute()
  teamUsersBefore = await team.db.selectFrom('users').selectAll().orderBy('id').execute()
  // Then the app with Breakwater, on the same PGlite, both servers on free loopback ports.
  app = await startApp({
    team,
    secret: randomBytes(32).toString('base64url'),
    apiPort: 0,
    webPort: 0,
  })
})

after(async () => {
  await app?.close()
  await team?.close()
})

function client() {
  const store = memoryTokenStore()
  const api = createBreakwaterClient<AppRouter>({
    url: app.trpcUrl,
    transport: 'bearer',
    store,
    namespace: 'account',
    transformer: superjson,
  })
  return { api, store }
}

async function profileRows() {
  const { rows } = await sql<{ user_id: string; company: string; email: string }>`
    select p.user_id, p.company, u.email
    from public.profiles p join breakwater.users u on u.id = p.user_id
    order by p.created_at`.execute(team.db)
  return rows
}

test('register through the client with a company: auth.me and the profile return it', async () => {
  const { api } = client()
  const email = uniqueEmail('ada')
  const registered = await api.account.auth.register.mutate({
    email,
    password: PASSWORD,
    company: '  Acme  ',
  })
  assert.equal(registered.user.company, 'Acme', 'as the zod schema parsed it')
  const me = await api.account.auth.me.query()
  assert.equal(me.user.email, email)
  assert.equal(me.user.company, 'Acme')
  const profile = await api.profile.mine.query()
  assert.equal(profile.user_id, me.user.id)
  assert.equal(profile.company, 'Acme')
  assert.ok(profile.created_at instanceof Date, 'superjson carries the Date')
  assert.deepEqual(await api.forum.handles.query(), ['ada', 'grace'], "the team's own procedure")
})

test('the profile row is in public.profiles and references breakwater.users', async () => {
  const { api } = client()
  const email = uniqueEmail('profile')
  const { user } = await api.account.auth.register.mutate({
    email,
    password: PASSWORD,
    company: 'Initech',
  })
  const row = (await profileRows()).find((profile) => profile.user_id === user.id)
  assert.deepEqual(row, { user_id: user.id, company: 'Initech', email })
  const { rows: references } = await sql<{ schema: string; table: string }>`
    select ref.table_schema as schema, ref.table_name as table
    from information_schema.referential_constraints rc
    join information_schema.key_column_usage own on own.constraint_name = rc.constraint_name
      and own.constraint_schema = rc.constraint_schema
    join information_schema.constraint_column_usage ref on ref.constraint_name = rc.unique_constraint_name
      and ref.constraint_schema = rc.unique_constraint_schema
    where own.table_schema = 'public' and own.table_name = 'profiles'`.execute(team.db)
  assert.deepEqual(references, [{ schema: 'breakwater', table: 'users' }])
})

test("the team's own users table and migration history are untouched", async () => {
  const { api } = client()
  await api.account.auth.register.mutate({
    email: uniqueEmail('untouched'),
    password: PASSWORD,
    company: 'Globex',
  })
  assert.deepEqual(
    await team.db.selectFrom('users').selectAll().orderBy('id').execute(),
    teamUsersBefore,
    'public.users holds the same rows',
  )
  const { rows: history } = await sql<{ name: string }>`
    select name from public.kysely_migration order by name`.execute(team.db)
  assert.deepEqual(
    history.map((row) => row.name),
    Object.keys(TEAM_MIGRATIONS),
    "public.kysely_migration lists the team's migrations only",
  )
  const { rows: tables } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' order by 1`.execute(team.db)
  assert.deepEqual(
    tables.map((row) => row.name),
    ['kysely_migration', 'kysely_migration_lock', 'profiles', 'users'],
    'Breakwater added nothing to public',
  )
  const { rows: columns } = await sql<{ name: string }>`
    select column_name as name from information_schema.columns
    where table_schema = 'public' and table_name = 'users' order by ordinal_position`.execute(
    team.db,
  )
  assert.deepEqual(
    columns.map((row) => row.name),
    ['id', 'handle', 'created_at'],
  )
  const { rows: breakwaterHistory } = await sql<{ n: number }>`
    select count(*)::int as n from breakwater.breakwater_migration`.execute(team.db)
  assert.ok(breakwaterHistory[0]!.n > 0, "Breakwater's history is in its own schema")
})

test('a typo in a field name is refused and creates nothing', async () => {
  const { api } = client()
  const email = uniqueEmail('typo')
  const profilesBefore = (await profileRows()).length
  const error = await api.account.auth.register
    .mutate({ email, password: PASSWORD, company: 'Acme', compnay: 'Acme' } as never)
    .then(
      () => undefined,
      (error: unknown) => error as { data?: { code?: string } },
    )
  assert.equal(error?.data?.code, 'BAD_REQUEST')
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from breakwater.users where email = ${email}`.execute(team.db)
  assert.equal(rows[0]!.n, 0, 'no user')
  assert.equal((await profileRows()).length, profilesBefore, 'no profile row')
})

test('the guarded route: 401 TOKEN_MISSING without a token, 200 with one', async () => {
  const url = `${app.apiOrigin}/files/report.txt`
  const anonymous = await fetch(url)
  assert.equal(anonymous.status, 401)
  const body = (await anonymous.json()) as { error: { data: { reason: string } } }
  assert.equal(body.error.data.reason, 'TOKEN_MISSING')

  const { api, store } = client()
  await api.account.auth.register.mutate({
    email: uniqueEmail('files'),
    password: PASSWORD,
    company: 'Umbrella',
  })
  const token = (await store.get())?.accessToken
  const signedIn = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(signedIn.status, 200)
  assert.match(await signedIn.text(), /report\.txt: the quarterly report of Umbrella/)

  const forged = await fetch(url, { headers: { authorization: 'Bearer not-a-token' } })
  assert.equal(forged.status, 401)
  assert.equal(
    ((await forged.json()) as { error: { data: { reason: string } } }).error.data.reason,
    'TOKEN_INVALID',
  )
  // The client reads the same reason from a tRPC call.
  const refused = await client()
    .api.profile.mine.query()
    .catch((error: unknown) => error)
  assert.equal(readReason(refused), 'TOKEN_MISSING')
})

test('CORS: the SPA origin may preflight with the CSRF header; a foreign origin may not', async () => {
  const preflight = (origin: string) =>
    fetch(`${app.trpcUrl}/account.auth.login`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-breakwater-csrf',
      },
    })
  const allowed = await preflight(app.webOrigin)
  assert.ok(allowed.status === 204 || allowed.status === 200, `status ${allowed.status}`)
  assert.equal(allowed.headers.get('access-control-allow-origin'), app.webOrigin)
  assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true')
  const headers = (allowed.headers.get('access-control-allow-headers') ?? '').toLowerCase()
  for (const header of ['content-type', 'authorization', 'x-breakwater-csrf'])
    assert.ok(headers.split(/\s*,\s*/).includes(header), `allows ${header}`)

  const foreign = await preflight(FOREIGN)
  // Without Access-Control-Allow-Origin a browser sends nothing after the preflight.
  assert.equal(foreign.headers.get('access-control-allow-origin'), null, 'no CORS grant')

  // A plain request from the SPA sees Retry-After (RATE_LIMITED) through CORS.
  const simple = await fetch(`${app.apiOrigin}/files/x`, { headers: { origin: app.webOrigin } })
  assert.equal(simple.headers.get('access-control-allow-origin'), app.webOrigin)
  assert.match(simple.headers.get('access-control-expose-headers') ?? '', /retry-after/i)
})

test('cookie transport from the SPA origin: sign-in, the scoped refresh cookie, the guard', async () => {
  const email = uniqueEmail('spa')
  const mutate = (path: string, input: unknown, origin: string, cookie?: string) =>
    fetch(`${app.trpcUrl}/${path}`, {
      method: 'POST',
      headers: {
        origin,
        'content-type': 'application/json',
        'x-breakwater-csrf': '1',
        ...(cookie ? { cookie } : {}),
      },
      body: JSON.stringify(superjson.serialize(input)),
    })
  const registered = await mutate(
    'account.auth.register',
    { email, password: PASSWORD, company: 'Hooli' },
    app.webOrigin,
  )
  assert.equal(registered.status, 200)
  assert.equal(registered.headers.get('access-control-allow-origin'), app.webOrigin)
  const setCookies = registered.headers.getSetCookie()
  const refresh = setCookies.find((cookie) => /^[\w-]*refresh=/.test(cookie))
  assert.match(refresh ?? '', /;\s*Path=\/api\/account\.auth\.refresh(;|$)/i)
  assert.match(refresh ?? '', /HttpOnly/i)
  const jar = setCookies.map((cookie) => cookie.split(';')[0]).join('; ')

  const signedIn = await mutate(
    'account.auth.login',
    { email, password: PASSWORD },
    app.webOrigin,
    undefined,
  )
  assert.equal(signedIn.status, 200, 'sign-in from the SPA origin')

  // The cookies authenticate the guarded route (a GET needs no CSRF proof)…
  const file = await fetch(`${app.apiOrigin}/files/report.txt`, {
    headers: { origin: app.webOrigin, cookie: jar },
  })
  assert.equal(file.status, 200)
  assert.match(await file.text(), /Hooli/)
  // …and refresh where the refresh cookie is scoped.
  const refreshed = await mutate('account.auth.refresh', undefined, app.webOrigin, jar)
  assert.equal(refreshed.status, 200)

  // A cookie-authenticated mutation from a foreign origin is refused by Breakwater.
  const foreign = await mutate('account.auth.logoutAll', {}, FOREIGN, jar)
  assert.equal(foreign.status, 403)
  const body = (await foreign.json()) as { error: { json: { data: { reason: string } } } }
  assert.equal(body.error.json.data.reason, 'CSRF_REJECTED')
})

test('the single-page app is served on its own port, pointed at the API', async () => {
  const page = await fetch(`${app.webOrigin}/`)
  assert.equal(page.status, 200)
  const html = await page.text()
  assert.ok(html.includes(`content="${app.trpcUrl}"`))
  const script = await fetch(`${app.webOrigin}/app.js`)
  assert.match(script.headers.get('content-type') ?? '', /javascript/)
})

test('the Node client script runs against the app', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('../src/client.ts', import.meta.url)), app.trpcUrl],
    { timeout: 30_000 },
  )
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
  assert.equal(result.company, 'Hopper & Co')
  assert.equal(result.download, 200)
  assert.match(String(result.file), /Hopper & Co/)
})
