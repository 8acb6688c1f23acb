// The two ways a deployment without a plain LISTEN-capable connection still gets
// revocations across instances: polling (REVOCATION_SYNC=poll), for engines without
// LISTEN/NOTIFY, and a dedicated listener connection (REVOCATION_LISTEN_URL), for
// PgBouncer in transaction mode. A direct connection stands in for the dedicated one.
import { randomBytes } from 'node:crypto'
import { startTestPostgres } from '@breakwater/db/testing'
import pg from 'pg'
import t from 'tap'
import {
  call,
  pick,
  quantile,
  register,
  revocationLags,
  sleep,
  startCluster,
} from '../src/index.js'

const REVOCATIONS = 20

async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

/** Logs out `count` fresh sessions on random instances; each other instance's lag, in ms. */
async function measureLags(urls: readonly string[], count: number): Promise<number[]> {
  const lags: number[] = []
  for (let i = 0; i < count; i++) {
    const on = Math.floor(Math.random() * urls.length)
    const { tokens } = await register(pick(urls))
    const since = performance.now()
    const reply = await call(urls[on]!, 'mutation', 'auth.logout', { token: tokens.accessToken })
    if (reply.status !== 200) throw new Error(`logout: ${reply.status} ${reply.reason}`)
    const others = urls.filter((_, index) => index !== on)
    lags.push(...(await revocationLags(others, tokens.accessToken, since)))
  }
  return lags
}

const fmt = (lags: number[]) =>
  `p50 ${quantile(lags, 0.5).toFixed(0)} ms, p99 ${quantile(lags, 0.99).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms`

const LISTENERS =
  "select usename, count(*)::int as n from pg_stat_activity where application_name = 'breakwater-revocations' and datname = current_database() group by usename"

t.test('REVOCATION_SYNC=poll on PostgreSQL (interval 500ms)', async (t) => {
  const cluster = await startCluster({
    instances: 3,
    env: {
      REVOCATION_SYNC: 'poll',
      REVOCATION_POLL_INTERVAL: '500ms',
      LOGIN_IP_LIMIT: '100000/1m',
    },
  })
  t.teardown(() => cluster.stop())
  t.same(await sql(cluster.databaseUrl, LISTENERS), [], 'no LISTEN connection in poll mode')
  const lags = await measureLags(cluster.urls, REVOCATIONS)
  t.ok(
    lags.every((lag) => lag <= 1000),
    `every other instance refused the token within 1 s (${fmt(lags)})`,
  )
  t.comment(`poll mode, 500ms interval, ${lags.length} pairs: ${fmt(lags)}`)
})

t.test('REVOCATION_LISTEN_URL: a dedicated listener connection', async (t) => {
  const postgres = await startTestPostgres()
  if (postgres.controllable) await postgres.start()
  const databaseUrl = await postgres.createDatabaseUrl()
  // A role of its own for the listener, so pg_stat_activity shows which URL each
  // connection came from. It needs LISTEN (no privilege) and, for the catch-up after a
  // reconnect, SELECT on breakwater.sessions (and USAGE on its schema).
  const role = `bw_listener_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  await sql(postgres.adminUrl, `create role ${role} login password '${password}'`)
  const listenUrl = new URL(databaseUrl)
  listenUrl.username = role
  listenUrl.password = password

  const cluster = await startCluster({
    instances: 3,
    databaseUrl,
    env: { REVOCATION_LISTEN_URL: listenUrl.toString(), LOGIN_IP_LIMIT: '100000/1m' },
  })
  t.teardown(() => cluster.stop())
  await sql(databaseUrl, `grant usage on schema breakwater to ${role}`)
  await sql(databaseUrl, `grant select on breakwater.sessions to ${role}`)
  t.same(
    await sql(databaseUrl, LISTENERS),
    [{ usename: role, n: 3 }],
    'each instance listens over REVOCATION_LISTEN_URL, none over DATABASE_URL',
  )
  const lags = await measureLags(cluster.urls, REVOCATIONS)
  t.ok(
    lags.every((lag) => lag <= 1000),
    `within 1 s (${fmt(lags)})`,
  )
  t.comment(`REVOCATION_LISTEN_URL, ${lags.length} pairs: ${fmt(lags)}`)

  // The dedicated connection dropped (a PgBouncer restart, say): it reconnects over the
  // same URL and replays what it missed.
  await sql(
    databaseUrl,
    "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'breakwater-revocations' and datname = current_database()",
  )
  const { tokens } = await register(cluster.urls[0]!)
  const since = performance.now()
  await call(cluster.urls[0]!, 'mutation', 'auth.logout', { token: tokens.accessToken })
  const gap = await revocationLags(cluster.urls.slice(1), tokens.accessToken, since)
  t.ok(
    gap.every((lag) => lag <= 1000),
    `a revocation during the reconnect arrives (${gap.map((l) => l.toFixed(0)).join(', ')} ms)`,
  )
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && (await sql(databaseUrl, LISTENERS)).length === 0) await sleep(100)
  t.same(
    await sql(databaseUrl, LISTENERS),
    [{ usename: role, n: 3 }],
    'reconnected over the same URL',
  )
})
