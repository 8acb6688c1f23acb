import t from 'tap'
import {
  createDatabase,
  createSession,
  DatabaseError,
  findUserByEmail,
  isUnavailableError,
  revokeSession,
  rotateRefreshToken,
} from '../src/index.js'
import { startTestPostgres } from '../src/testing/index.js'
import { eventually, eventuallyAsync, fakeHash, newUser, sleep } from './helpers.js'

// An external server (TEST_DATABASE_URL) is not ours to stop.
const skip = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL cannot be stopped by tests' : false

t.test(
  'PostgreSQL stops: DB_UNAVAILABLE promptly, no crash; restarts: works, data intact',
  { skip },
  async (t) => {
    const server = await startTestPostgres()
    const url = await server.createDatabaseUrl()
    const errors: unknown[] = []
    const database = await createDatabase(url, {
      onError: (e) => errors.push(e),
      notify: { minBackoffMs: 100, maxBackoffMs: 500 },
    })
    // Both reconnect on a short backoff: the default's (up to 5 s) could outlast the wait below.
    const observer = await createDatabase(url, { notify: { minBackoffMs: 100, maxBackoffMs: 500 } })
    t.teardown(async () => {
      await server.start()
      await database.close()
      await observer.close()
    })
    const { db } = database
    const user = await newUser(db, 'survivor@example.com')
    const hash = fakeHash()
    const session = await createSession(db, {
      userId: user.id,
      refreshTokenHash: hash,
      idleTtlSeconds: 600,
      maxAgeSeconds: 3600,
    })

    await server.stop()

    for (const attempt of [1, 2, 3]) {
      const started = Date.now()
      const error = await findUserByEmail(db, 'survivor@example.com').catch((e: unknown) => e)
      t.type(error, DatabaseError, `attempt ${attempt} rejects with a DatabaseError`)
      t.equal((error as DatabaseError).code, 'DB_UNAVAILABLE')
      t.equal(isUnavailableError(error), true)
      t.ok(Date.now() - started < 3500, `attempt ${attempt} rejects promptly`)
      t.notMatch((error as Error).message, new URL(url).password)
    }
    const rotation = await rotateRefreshToken(db, {
      presentedHash: hash,
      newTokenHash: fakeHash(),
      sealedSuccessor: 's',
      graceSeconds: 10,
      idleTtlSeconds: 600,
    }).catch((e: unknown) => e)
    t.equal((rotation as DatabaseError).code, 'DB_UNAVAILABLE', 'rotation too')
    const tx = await db
      .transaction()
      .execute((trx) => findUserByEmail(trx, 'x@example.com'))
      .catch((e: unknown) => e)
    t.equal((tx as DatabaseError).code, 'DB_UNAVAILABLE', 'and transactions')
    const ping = await database.ping().catch((e: unknown) => e)
    t.equal((ping as DatabaseError).code, 'DB_UNAVAILABLE', 'ping says so for /readyz')
    t.ok(await eventually(() => !database.revocations.healthy, 2000), 'feed reports unhealthy')
    await sleep(300) // let reconnect attempts fail a few times

    await server.start()

    t.ok(
      await eventuallyAsync(
        async () => (await findUserByEmail(db, 'survivor@example.com'))?.id === user.id,
        5000,
      ),
      'queries work again without a restart, and the data is intact',
    )
    t.ok(await eventually(() => database.revocations.healthy, 5000), 'LISTEN is back')
    t.ok(await eventually(() => observer.revocations.healthy, 5000))

    const heard: string[] = []
    database.revocations.subscribe((e) => heard.push(e.sessionId))
    await revokeSession(observer.db, { sessionId: session.id, reason: 'logout' })
    t.ok(await eventually(() => heard.includes(session.id), 1000), 'broadcast works again')
    t.ok(errors.length > 0, 'background failures were reported, not thrown')
    t.same(
      errors.filter((e) => !(e instanceof DatabaseError)),
      [],
      'each one a DatabaseError (one error family, LISTEN client included)',
    )
  },
)
