import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import {
  DatabaseError,
  DatabaseUnavailable,
  DatabaseUrlInvalid,
  DataDirUnwritable,
  redactUrl,
  translateError,
} from './errors.js'
import { guardDialect } from './guarded-dialect.js'
import { migrateToLatest } from './migrations/index.js'
import { type RevocationFeed, RevocationHub, type RevocationSync } from './revocation/feed.js'
import { type NotifyOptions, startNotifySource } from './revocation/notify.js'
import { startPGliteSource } from './revocation/pglite.js'
import { type PollOptions, startPollSource } from './revocation/poll.js'
import type { BreakwaterSchema } from './schema.js'

/** Default data directory of the embedded database (SPEC §2). */
export const DEFAULT_DATA_DIR = './.breakwater'

/** Options of {@link createDatabase}; every one is optional. */
export interface CreateDatabaseOptions {
  /**
   * Embedded only: where PGlite keeps its files (in `<dataDir>/pglite`). Default:
   * `BREAKWATER_DATA_DIR`, else `./.breakwater`.
   */
  readonly dataDir?: string
  /** Embedded only: keep everything in memory (tests). Wins over `dataDir`. */
  readonly memory?: boolean
  /**
   * Embedded only: use this PGlite instance (with your extensions or file system) instead
   * of creating one; wins over `memory` and `dataDir`. `close()` closes it.
   */
  readonly pglite?: PGlite
  /** Run {@link migrateToLatest} before returning. Default `true`. */
  readonly migrate?: boolean
  /** How revocations reach `database.revocations`. Default `notify`. */
  readonly revocationSync?: RevocationSync
  /**
   * PostgreSQL only: a URL for the LISTEN connection when the main URL goes through a
   * pooler that cannot hold LISTEN (PgBouncer in transaction mode). Default: the main URL.
   */
  readonly listenUrl?: string
  /** Tuning of `revocationSync: 'notify'` on PostgreSQL. */
  readonly notify?: NotifyOptions
  /** Tuning of `revocationSync: 'poll'`. */
  readonly poll?: PollOptions
  /** PostgreSQL only: connection pool settings. */
  readonly pool?: {
    /** Default 10. */
    readonly max?: number
    /** How long a query waits to connect before failing with `DB_UNAVAILABLE`. Default 2500. */
    readonly connectionTimeoutMillis?: number
    /** Server-side `statement_timeout`. Default 10 000. */
    readonly statementTimeoutMillis?: number
    /** Default 30 000. */
    readonly idleTimeoutMillis?: number
  }
  /**
   * Receives background failures (a dropped idle connection, a LISTEN reconnect, a failed
   * poll), which never reject a caller's promise. Default: ignored. Errors carry no
   * password; log them freely.
   */
  readonly onError?: (error: unknown) => void
}

/** An open database: a typed Kysely plus what comes with it. */
export interface Database {
  /** Which engine: `postgres` (a URL was given) or `pglite` (embedded). */
  readonly kind: 'postgres' | 'pglite'
  /** The typed query builder the query functions take. */
  readonly db: Kysely<BreakwaterSchema>
  /** Revocations by any process on this database (SPEC §4: "within 1 s"). */
  readonly revocations: RevocationFeed
  /** For logs: the URL without its password, or the data directory, or `memory`. */
  readonly location: string
  /** Resolves when the database answers; rejects with `DB_UNAVAILABLE` otherwise (`/readyz`). */
  ping(): Promise<void>
  /** Stops the revocation feed and closes every connection. Idempotent. */
  close(): Promise<void>
}

const noop = () => {}

/**
 * Opens the Breakwater database: PostgreSQL through `pg` when `url` is a
 * `postgres://` or `postgresql://` URL, else the embedded PGlite (persisted in the data
 * directory, or in memory). Same schema, same queries, same results on both.
 *
 * Checks connectivity, runs migrations (unless `migrate: false`) and starts the
 * revocation feed before resolving.
 *
 * @example
 * ```ts
 * const database = await createDatabase(process.env.DATABASE_URL)
 * const user = await findUserByEmail(database.db, 'ada@example.com')
 * await database.close()
 * ```
 *
 * @throws {DatabaseUrlInvalid} `DB_URL_INVALID`: not a parseable postgres URL.
 * @throws {DatabaseUnavailable} `DB_UNAVAILABLE`: the server cannot be reached.
 * @throws {DataDirUnwritable} `DB_DATA_DIR_UNWRITABLE`: the data directory cannot be written.
 * @throws {MigrationFailed} `DB_MIGRATION_FAILED`.
 */
export async function createDatabase(
  url?: string,
  options: CreateDatabaseOptions = {},
): Promise<Database> {
  const trimmed = url?.trim()
  return trimmed ? openPostgres(trimmed, options) : openPGlite(options)
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

async function openPostgres(url: string, options: CreateDatabaseOptions): Promise<Database> {
  parsePostgresUrl(url)
  if (options.listenUrl !== undefined) parsePostgresUrl(options.listenUrl)
  const location = redactUrl(url)
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
  // failed client is discarded by the pool; the next query connects afresh.
  pool.on('error', (error) => onError(translateError(error)))
  pool.on('connect', (client) => {
    client.on('error', (error) => onError(translateError(error)))
  })

  const db = new Kysely<BreakwaterSchema>({
    dialect: guardDialect(new PostgresDialect({ pool })),
  })
  const hub = new RevocationHub(options.revocationSync ?? 'notify', onError)

  try {
    await ping(db, location)
    if (options.migrate ?? true) await migrateToLatest(db)
    if (hub.mode === 'notify') {
      const listenUrl = options.listenUrl ?? url
      hub.source = await startNotifySource(listenUrl, hub, onError, options.notify).catch(
        (error: unknown) => {
          throw new DatabaseUnavailable(
            `cannot LISTEN for revocations at ${redactUrl(listenUrl)}`,
            { cause: translateError(error) },
          )
        },
      )
    } else if (hub.mode === 'poll') {
      hub.source = startPollSource(db, hub, onError, options.poll)
    }
  } catch (error) {
    await db.destroy().catch(noop)
    throw error
  }

  return finish('postgres', db, hub, location)
}

function resolveDataDir(options: CreateDatabaseOptions): string {
  const dir = options.dataDir ?? process.env.BREAKWATER_DATA_DIR ?? DEFAULT_DATA_DIR
  return path.resolve(dir === '' ? DEFAULT_DATA_DIR : dir)
}

// mkdir + access alone pass for root on a read-only mount and say nothing about a
// full disk, so actually write a file.
function assertWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
    const probe = path.join(dir, `.write-probe-${process.pid}`)
    writeFileSync(probe, '')
    rmSync(probe)
  } catch (error) {
    throw new DataDirUnwritable(dir, { cause: error })
  }
}

async function openPGlite(options: CreateDatabaseOptions): Promise<Database> {
  let location = 'memory'
  let pglite: PGlite
  if (options.pglite) {
    pglite = options.pglite
    location = options.pglite.dataDir ?? 'memory'
  } else if (options.memory) {
    pglite = new PGlite()
  } else {
    const dataDir = resolveDataDir(options)
    const pgliteDir = path.join(dataDir, 'pglite')
    assertWritable(dataDir)
    assertWritable(pgliteDir)
    location = dataDir
    pglite = new PGlite(pgliteDir)
  }
  try {
    await pglite.waitReady
  } catch (error) {
    throw new DatabaseError('DB_UNAVAILABLE', `cannot open the embedded database at ${location}`, {
      cause: error,
    })
  }

  const onError = options.onError ?? noop
  const db = new Kysely<BreakwaterSchema>({ dialect: guardDialect(new PGliteDialect({ pglite })) })
  const hub = new RevocationHub(options.revocationSync ?? 'notify', onError)
  try {
    if (options.migrate ?? true) await migrateToLatest(db)
    if (hub.mode === 'notify') hub.source = await startPGliteSource(pglite, hub)
    else if (hub.mode === 'poll') hub.source = startPollSource(db, hub, onError, options.poll)
  } catch (error) {
    await db.destroy().catch(noop)
    if (!pglite.closed) await pglite.close().catch(noop)
    throw error
  }
  return finish('pglite', db, hub, location)
}

async function ping(db: Kysely<BreakwaterSchema>, location: string): Promise<void> {
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    const translated = translateError(error)
    if (translated instanceof DatabaseError) {
      throw new DatabaseUnavailable(`cannot reach the database at ${location}`, {
        cause: translated,
      })
    }
    // Authentication failures, a missing database: still "cannot use it", same code.
    throw new DatabaseUnavailable(`cannot use the database at ${location}`, { cause: error })
  }
}

function finish(
  kind: Database['kind'],
  db: Kysely<BreakwaterSchema>,
  hub: RevocationHub,
  location: string,
): Database {
  let closing: Promise<void> | undefined
  return Object.freeze({
    kind,
    db,
    revocations: hub,
    location,
    ping: () => ping(db, location),
    close: () => {
      closing ??= (async () => {
        await hub.source?.stop()
        await db.destroy()
      })()
      return closing
    },
  })
}
