import {
  accessSync,
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import {
  DatabaseUnavailable,
  DatabaseUrlInvalid,
  DataDirInsecure,
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
   * `BREAKWATER_DATA_DIR`, else `./.breakwater`. Created 0700 when missing; an existing
   * one that group or others can read or write is refused (`DB_DATA_DIR_INSECURE`), and
   * what it holds is made private (files 0600, directories 0700) at every open.
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
  /**
   * The resolved (absolute) data directory of an on-disk embedded database, where files
   * that belong beside it (the generated `BREAKWATER_SECRET`) go; `undefined` for
   * PostgreSQL, in-memory PGlite, or a PGlite instance passed in `options.pglite`.
   */
  readonly dataDir: string | undefined
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
 * @throws {DataDirInsecure} `DB_DATA_DIR_INSECURE`: other users can read or write it.
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

  return finish('postgres', db, hub, location, undefined)
}

function resolveDataDir(options: CreateDatabaseOptions): string {
  const dir = options.dataDir ?? process.env.BREAKWATER_DATA_DIR ?? DEFAULT_DATA_DIR
  return path.resolve(dir === '' ? DEFAULT_DATA_DIR : dir)
}

// SPEC §2: the data directory holds the WAL and the relation files, so every value ever
// written (sealed keys, hashes, emails); only its owner may read or write any of it.
const PRIVATE_DIR = 0o700
const PRIVATE_FILE = 0o600
// Read or write for group or others. Search (x) alone lists nothing and opens nothing
// under a 0700 directory below it, so it is tolerated.
const SHARED_BITS = 0o066

// mkdir + access alone pass for root on a read-only mount and say nothing about a
// full disk, so actually write a file.
function assertWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR })
    accessSync(dir, constants.W_OK)
    const probe = path.join(dir, `.write-probe-${process.pid}`)
    writeFileSync(probe, '', { mode: PRIVATE_FILE })
    rmSync(probe)
  } catch (error) {
    throw new DataDirUnwritable(dir, { cause: error })
  }
}

function statOrUndefined(dir: string): Stats | undefined {
  try {
    return statSync(dir)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw new DataDirUnwritable(dir, { cause: error })
  }
}

// Makes everything below `dir` private: files 0600, directories 0700. PGlite creates its
// files with the process umask (0644, or 0666 under umask 0), and older versions of this
// package created the directories 0755. Symbolic links are neither followed nor changed
// (chmod would follow one out of the directory).
function makePrivate(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    const target = entry.isDirectory() ? PRIVATE_DIR : entry.isFile() ? PRIVATE_FILE : undefined
    if (target === undefined) continue
    if ((lstatSync(full).mode & 0o777) !== target) chmodSync(full, target)
    if (entry.isDirectory()) makePrivate(full)
  }
}

/**
 * Prepares the embedded data directory (SPEC §2: "created 0700 (files 0600); refuses to
 * start on one that others can read or write"). An existing directory is checked before
 * anything is written to it; one created here is private from the start.
 */
function prepareDataDir(dataDir: string): void {
  const existing = statOrUndefined(dataDir)
  if (existing?.isDirectory() && process.platform !== 'win32') {
    if ((existing.mode & SHARED_BITS) !== 0) throw new DataDirInsecure(dataDir, existing.mode)
  }
  assertWritable(dataDir)
  assertWritable(path.join(dataDir, 'pglite'))
}

/**
 * Tightens what the data directory holds once PGlite has opened (and, on a fresh
 * directory, created) its files and the migrations have created theirs. Until then
 * the 0700 directory already keeps everyone else out.
 */
function tightenDataDir(dataDir: string): void {
  if (process.platform === 'win32') return
  try {
    makePrivate(dataDir)
  } catch (error) {
    throw new DataDirUnwritable(dataDir, { cause: error })
  }
}

async function openPGlite(options: CreateDatabaseOptions): Promise<Database> {
  let location = 'memory'
  let dataDir: string | undefined
  let pglite: PGlite
  if (options.pglite) {
    pglite = options.pglite
    location = options.pglite.dataDir ?? 'memory'
  } else if (options.memory) {
    pglite = new PGlite()
  } else {
    dataDir = resolveDataDir(options)
    prepareDataDir(dataDir)
    location = dataDir
    pglite = new PGlite(path.join(dataDir, 'pglite'))
  }
  try {
    await pglite.waitReady
  } catch (error) {
    throw new DatabaseUnavailable(`cannot open the embedded database at ${location}`, {
      cause: error,
    })
  }

  const onError = options.onError ?? noop
  const db = new Kysely<BreakwaterSchema>({ dialect: guardDialect(new PGliteDialect({ pglite })) })
  const hub = new RevocationHub(options.revocationSync ?? 'notify', onError)
  try {
    if (options.migrate ?? true) await migrateToLatest(db)
    if (dataDir !== undefined) tightenDataDir(dataDir)
    if (hub.mode === 'notify') hub.source = await startPGliteSource(pglite, hub)
    else if (hub.mode === 'poll') hub.source = startPollSource(db, hub, onError, options.poll)
  } catch (error) {
    await db.destroy().catch(noop)
    if (!pglite.closed) await pglite.close().catch(noop)
    throw error
  }
  return finish('pglite', db, hub, location, dataDir)
}

async function ping(db: Kysely<BreakwaterSchema>, location: string): Promise<void> {
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    // Whatever the driver said (refused, timed out, bad credentials, no such database):
    // the database cannot be used, which is what ping and /readyz report.
    throw new DatabaseUnavailable(`cannot reach the database at ${location}`, {
      cause: translateError(error),
    })
  }
}

function finish(
  kind: Database['kind'],
  db: Kysely<BreakwaterSchema>,
  hub: RevocationHub,
  location: string,
  dataDir: string | undefined,
): Database {
  let closing: Promise<void> | undefined
  return Object.freeze({
    kind,
    db,
    revocations: hub,
    location,
    dataDir,
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
