import { sql } from 'kysely'
import t from 'tap'
import {
  createDatabase,
  createSession,
  type Database,
  LISTENER_APPLICATION_NAME,
  type RevocationEvent,
  revokeSession,
  revokeUserSessions,
} from '../src/index.js'
import { openTestDatabase, startTestPostgres } from '../src/testing/index.js'
import { eventually, fakeHash, newUser } from './helpers.js'

async function openSession(database: Database, userId?: string) {
  const uid = userId ?? (await newUser(database.db)).id
  return createSession(database.db, {
    userId: uid,
    refreshTokenHash: fakeHash(),
    idleTtlSeconds: 600,
    maxAgeSeconds: 3600,
  })
}

function collect(database: Database): RevocationEvent[] {
  const events: RevocationEvent[] = []
  database.revocations.subscribe((e) => events.push(e))
  return events
}

const has = (events: RevocationEvent[], id: string) => () => events.some((e) => e.sessionId === id)

t.test('PGlite: revocations reach subscribers in-process', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const events = collect(database)
  const throwing = database.revocations.subscribe(() => {
    throw new Error('a bad listener does not stop the others')
  })
  const session = await openSession(database)
  await revokeSession(database.db, { sessionId: session.id, reason: 'logout' })
  t.ok(await eventually(has(events, session.id), 1000))
  t.equal(events[0]?.reason, 'logout')
  t.equal(events[0]?.userId, session.userId)
  throwing()
  t.equal(database.revocations.healthy, true)
})

t.test('PostgreSQL: broadcast between two instances, through a dropped connection', async (t) => {
  const server = await startTestPostgres()
  const url = await server.createDatabaseUrl()
  const errors: unknown[] = []
  const a = await createDatabase(url)
  const b = await createDatabase(url, {
    onError: (e) => errors.push(e),
    // Slow enough that the revocation below lands before the LISTEN is back, so the
    // replay-on-reconnect path is what delivers it.
    notify: { minBackoffMs: 400, maxBackoffMs: 1000 },
  })
  const poller = await createDatabase(url, { revocationSync: 'poll', poll: { intervalMs: 200 } })
  t.teardown(async () => {
    await a.close()
    await b.close()
    await poller.close()
  })
  t.equal(b.revocations.mode, 'notify')
  const fromA = collect(a)
  const fromB = collect(b)
  const polled = collect(poller)

  t.test('a revocation on A reaches B within 1 s', async (t) => {
    const session = await openSession(a)
    const started = Date.now()
    await revokeSession(a.db, { sessionId: session.id, reason: 'logout' })
    t.ok(await eventually(has(fromB, session.id), 1000), 'B heard it')
    t.ok(Date.now() - started < 1000)
    t.ok(await eventually(has(fromA, session.id), 1000), 'A hears its own too')
    t.ok(await eventually(has(polled, session.id), 1000), 'the polling instance too')
    const event = fromB.find((e) => e.sessionId === session.id)
    t.equal(event?.reason, 'logout')
    t.ok(event?.revokedAt instanceof Date)
  })

  t.test('revoke-all broadcasts every session', async (t) => {
    const user = await newUser(a.db)
    const sessions = [await openSession(a, user.id), await openSession(a, user.id)]
    const { count } = await revokeUserSessions(a.db, { userId: user.id, reason: 'logout_all' })
    t.equal(count, 2)
    for (const s of sessions) t.ok(await eventually(has(fromB, s.id), 1000))
  })

  t.test('listener connection killed: reconnects and replays what it missed', async (t) => {
    const { rows } = await sql<{ n: number }>`
      select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
      where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`.execute(
      a.db,
    )
    t.equal(rows[0]?.n, 2, 'both listeners terminated')
    t.ok(await eventually(() => !b.revocations.healthy, 1000), 'B noticed the drop')
    const missed = await openSession(a)
    await revokeSession(a.db, { sessionId: missed.id, reason: 'user_revoked' })
    t.ok(await eventually(has(fromB, missed.id), 3000), 'replayed after reconnecting')
    t.ok(await eventually(() => b.revocations.healthy, 3000), 'B is listening again')
    t.ok(errors.length >= 1, 'the drop was reported to onError')
    for (const e of errors) t.notMatch(String(e), new URL(url).password)

    const after = await openSession(a)
    const started = Date.now()
    await revokeSession(a.db, { sessionId: after.id, reason: 'logout' })
    t.ok(await eventually(has(fromB, after.id), 1000), 'live again')
    t.ok(Date.now() - started < 1000)
  })

  t.test('a dedicated listenUrl is used for LISTEN', async (t) => {
    const c = await createDatabase(url, { listenUrl: url, migrate: false })
    t.teardown(() => c.close())
    const events = collect(c)
    const session = await openSession(a)
    await revokeSession(a.db, { sessionId: session.id, reason: 'logout' })
    t.ok(await eventually(has(events, session.id), 1000))
  })

  t.test('foreign NOTIFY payloads are ignored', async (t) => {
    const before = fromB.length
    await sql`select pg_notify('breakwater_revocations', 'not json'), pg_notify('breakwater_revocations', '{"s":1}')`.execute(
      a.db,
    )
    const session = await openSession(a)
    await revokeSession(a.db, { sessionId: session.id, reason: 'logout' })
    t.ok(await eventually(has(fromB, session.id), 1000))
    t.equal(fromB.length, before + 1)
  })
})
