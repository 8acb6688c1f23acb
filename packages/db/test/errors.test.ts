import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import t from 'tap'
import { translateError } from '../src/errors.js'
import {
  createDatabase,
  DatabaseError,
  DatabaseUnavailable,
  InvalidInput,
  isUnavailableError,
  QueryFailed,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'

// Shaped like what pg and PGlite throw for a server-reported failure.
const serverError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`server said something about ${code}`), {
    severity: 'ERROR',
    code,
    ...extra,
  })
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code })

t.test('driver failures are classified by structure, never by message', async (t) => {
  const unavailable: [string, unknown][] = [
    ['08006 connection failure', serverError('08006')],
    ['57P01 admin shutdown', serverError('57P01')],
    ['28P01 bad password', serverError('28P01')],
    ['3D000 no such database', serverError('3D000')],
    ['53300 too many connections', serverError('53300')],
    ['ECONNREFUSED', errno('ECONNREFUSED')],
    ['EPIPE: five letters, but an errno, not a SQLSTATE', errno('EPIPE')],
    ['an unknown errno', errno('EWHATEVER')],
    ['AggregateError of refusals', new AggregateError([errno('ECONNREFUSED')], 'all refused')],
    ["pg's Connection terminated", new Error('Connection terminated unexpectedly')],
    ['a message never seen before, no SQLSTATE', new Error('the socket went to lunch')],
    ['PGlite closed', new Error('PGlite is closed')],
  ]
  for (const [name, raw] of unavailable) {
    const translated = translateError(raw)
    t.type(translated, DatabaseUnavailable, name)
    t.equal(translated.code, 'DB_UNAVAILABLE', name)
    t.equal(translated.cause, raw, `${name}: the original is the cause`)
  }

  const invalid = translateError(serverError('22001'))
  t.type(invalid, InvalidInput)
  t.equal(invalid.code, 'DB_INVALID_INPUT')

  const unique = translateError(serverError('23505', { constraint: 'users_email_canonical_key' }))
  t.type(unique, QueryFailed)
  t.match(unique, {
    code: 'DB_QUERY_FAILED',
    sqlState: '23505',
    constraint: 'users_email_canonical_key',
  })
  t.notMatch(unique.message, 'server said', 'the driver message is not repeated')

  const bug = translateError(new TypeError('Converting circular structure to JSON'))
  t.type(bug, QueryFailed, 'a programming error is not an outage')
  t.equal(bug.code, 'DB_QUERY_FAILED')
  t.equal(isUnavailableError(bug), false)

  const ours = new InvalidInput('already ours')
  t.equal(translateError(ours), ours, 'a DatabaseError passes unchanged')

  const withParams = serverError('42601', { params: ['a-token-hash', 'a-sealed-successor'] })
  translateError(withParams)
  t.equal(
    (withParams as { params?: unknown }).params,
    '[redacted]',
    "PGlite's statement parameters leave no trace",
  )
})

t.test('isUnavailableError is a code check along the cause chain', async (t) => {
  const outage = new DatabaseUnavailable('database unavailable')
  t.equal(isUnavailableError(outage), true)
  t.equal(
    isUnavailableError(new DatabaseError('DB_UNAVAILABLE', 'base class, same code')),
    true,
    'the code decides, not the subclass',
  )
  t.equal(isUnavailableError(new Error('tRPC wrapper', { cause: outage })), true)
  t.equal(
    isUnavailableError(new Error('outer', { cause: new Error('inner', { cause: outage }) })),
    true,
  )
  t.equal(isUnavailableError(new InvalidInput('no')), false)
  t.equal(
    isUnavailableError(new Error('Connection terminated unexpectedly')),
    false,
    'no message matching: raw driver errors are translated at the boundary',
  )
  t.equal(isUnavailableError(errno('ECONNREFUSED')), false)
  const cyclic = new Error('a') as Error & { cause?: unknown }
  cyclic.cause = cyclic
  t.equal(isUnavailableError(cyclic), false, 'a cyclic cause chain terminates')
  t.equal(isUnavailableError(undefined), false)
  t.equal(isUnavailableError('DB_UNAVAILABLE'), false)
})

forEachDialect(t, async (t, { db }) => {
  t.test('every failure leaving the driver is a DatabaseError with a code', async (t) => {
    const syntax = await sql`selec 1`.execute(db).catch((e: unknown) => e)
    t.type(syntax, QueryFailed)
    t.match(syntax, { code: 'DB_QUERY_FAILED', sqlState: '42601' })

    const id = crypto.randomUUID()
    const insert = () =>
      sql`insert into breakwater.users (id, email, email_canonical, password_hash, created_at, updated_at)
        values (${id}, ${`${id}@example.com`}, ${`${id}@example.com`}, 'h', now(), now())`.execute(
        db,
      )
    await insert()
    const duplicate = await insert().catch((e: unknown) => e)
    t.type(duplicate, QueryFailed)
    t.match(duplicate, { sqlState: '23505', constraint: 'users_pkey' })

    const notANumber = await sql`select ${'twelve'}::int as v`.execute(db).catch((e: unknown) => e)
    t.type(notANumber, InvalidInput)
    t.match(notANumber, { code: 'DB_INVALID_INPUT' })

    const inTransaction = await db
      .transaction()
      .execute((trx) => sql`select 1/0`.execute(trx))
      .catch((e: unknown) => e)
    t.type(inTransaction, DatabaseError, 'inside a transaction too')
    t.match(inTransaction, { sqlState: '22012' })
  })
})

t.test('PGlite closed under a live database: DB_UNAVAILABLE, not a raw error', async (t) => {
  const pglite = new PGlite()
  const database = await createDatabase(undefined, { pglite, revocationSync: 'off' })
  t.teardown(() => database.close())
  await pglite.close()
  const error = await sql`select 1`.execute(database.db).catch((e: unknown) => e)
  t.type(error, DatabaseUnavailable)
  t.equal(isUnavailableError(error), true)
  const ping = await database.ping().catch((e: unknown) => e)
  t.equal((ping as DatabaseError).code, 'DB_UNAVAILABLE', 'and ping says so')
})
