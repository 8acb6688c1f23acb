import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { CreateDatabaseOptions, Database } from '../create-database.js'
import { DatabaseUnavailable, DatabaseUrlInvalid, redactUrl, translateError } from '../errors.js'
import { guardDialect } from '../guarded-dialect.js'
import { RevocationHub } from '../revocation/feed.js'
import { startNotifySource } from '../revocation/notify.js'
import { startPollSource } from '../revocation/poll.js'
import type { BreakwaterSchema } from '../schema.js'
import { finish, inSchema, noop, ping, prepareSchema } from './common.js'

// PostgreSQL through `pg`: from a URL (Breakwater's own pool) or on a team's pool.

/** Opens Breakwater's own pool on `url`, with its error handlers and timeouts. */
export async function openUrl(
  url: string,
  schema: string,
  options: CreateDatabaseOptions,
): Promise<Database> {
  parsePostgresUrl(url)
  const onError = options.onError ?? noop
  const statementTimeout = options.pool?.statementTimeoutMillis ?? 10_000
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pool?.max ?? 10,
    connectionTimeoutMillis: options.pool?.connectionTimeoutMillis ?? 2500,
    idleTimeoutMillis: options.pool?.idleTimeoutMillis ?? 30_000,
    keepAlive: true,
    statement_timeout: statementTimeout,
    // A leaked transaction must not hold row locks (and block rotations) for ever.
    idle_in_transaction_session_timeout: Math.max(statementTimeout * 6, 60_000),
    application_name: 'breakwater',
  })
  // An idle client whose server went away emits 'error' on the pool; a checked-out one
  // emits it on the client. Unhandled, either is an uncaught exception: a crash. The
  // failed client is discarded by the pool; the next query connects afresh. (A team's
  // own pool gets no listeners from us: handling its errors is its owner's choice.)
  pool.on('error', (error) => onError(translateError(error)))
  pool.on('connect', (client) => {
    client.on('error', (error) => onError(translateError(error)))
  })
  return openOnPool(pool, true, schema, options, url)
}

/** For logs: a pool's target without its password. */
function describePool(pool: pg.Pool): string {
  const o = pool.options
  if (typeof o.connectionString === 'string') return redactUrl(o.connectionString)
  const user = o.user === undefined ? '' : `${encodeURIComponent(o.user)}@`
  return `postgres://${user}${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`
}

/** Opens on `pool`; `owned` says whether `close()` may end it (a team's, never). */
export async function openOnPool(
  pool: pg.Pool,
  owned: boolean,
  schema: string,
  options: CreateDatabaseOptions,
  url?: string,
): Promise<Database> {
  const location = url === undefined ? describePool(pool) : redactUrl(url)
  const onError = options.onError ?? noop
  // kysely ends the pool it was given when destroyed; a team's must outlive us.
  const dialectPool = owned
    ? pool
    : { connect: () => pool.connect(), end: async () => {}, options: pool.options }
  const db = inSchema(
    new Kysely<BreakwaterSchema>({
      dialect: guardDialect(new PostgresDialect({ pool: dialectPool })),
    }),
    schema,
  )
  const hub = new RevocationHub(options.revocationSync ?? 'notify', onError)

  try {
    await ping(db, location)
    await prepareSchema(db, options)
    if (hub.mode === 'notify') {
      // LISTEN needs a connection of its own: the listen URL, the main URL, or a new
      // client made from the team pool's own settings (never one of its connections).
      const listenUrl = options.listenUrl ?? url
      const connection = listenUrl === undefined ? pool.options : { connectionString: listenUrl }
      const where = listenUrl === undefined ? location : redactUrl(listenUrl)
      hub.source = await startNotifySource(
        { connection, schema },
        hub,
        onError,
        options.notify,
      ).catch((error: unknown) => {
        throw new DatabaseUnavailable(`cannot LISTEN for revocations at ${where}`, {
          cause: translateError(error),
        })
      })
    } else if (hub.mode === 'poll') {
      hub.source = startPollSource(db, hub, onError, options.poll)
    }
  } catch (error) {
    await db.destroy().catch(noop)
    throw error
  }

  return finish('postgres', schema, db, hub, location, undefined)
}

/** Validates a PostgreSQL URL; throws {@link DatabaseUrlInvalid} without echoing secrets. */
export function parsePostgresUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new DatabaseUrlInvalid(
      'database URL is not a valid URL (expected postgres://user:password@host:port/database)',
      { cause: error instanceof Error ? new Error(error.name) : undefined },
    )
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    // The scheme alone is safe to quote; the rest may hold a password.
    throw new DatabaseUrlInvalid(
      `database URL must start with postgres:// or postgresql:// (got ${JSON.stringify(parsed.protocol.slice(0, 20))})`,
    )
  }
  if (parsed.port !== '' && !/^\d+$/.test(parsed.port)) {
    throw new DatabaseUrlInvalid(`database URL has an invalid port: ${redactUrl(url)}`)
  }
  return parsed
}
