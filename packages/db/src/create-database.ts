import type { PGlite as KyselyPGlite } from 'kysely'
import { Kysely } from 'kysely'
import pg from 'pg'
import { openOnKysely } from './open/kysely.js'
import { openPGlite } from './open/pglite.js'
import { openOnPool, openUrl, parsePostgresUrl } from './open/postgres.js'
import type { RevocationFeed, RevocationSync } from './revocation/feed.js'
import type { NotifyOptions } from './revocation/notify.js'
import type { PollOptions } from './revocation/poll.js'
import type { BreakwaterSchema } from './schema.js'
import { checkSchemaName, DEFAULT_SCHEMA } from './schema-plugin.js'

export { DEFAULT_DATA_DIR } from './data-dir.js'
export { parsePostgresUrl }

/**
 * What {@link createDatabase} opens: a `postgres://` URL, nothing (the embedded database),
 * or a team's own `pg.Pool` or `Kysely` (SPEC §8), which Breakwater uses as they are
 * (their settings and `search_path` untouched) and never closes.
 */
// biome-ignore lint/suspicious/noExplicitAny: a team's Kysely, whatever its schema type
export type DatabaseSource = string | undefined | pg.Pool | Kysely<any>

/**
 * What `options.pglite` must be: a `PGlite` of `@electric-sql/pglite`, described by shape
 * so that these declarations compile without that optional package installed.
 */
export interface PGliteInstance extends KyselyPGlite {
  readonly dataDir?: string | undefined
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>
}

/** Options of {@link createDatabase}; every one is optional. */
export interface CreateDatabaseOptions {
  /**
   * The PostgreSQL schema that holds every Breakwater table, index and constraint and
   * kysely's migration bookkeeping; created by the first migration if missing. Nothing
   * outside it is touched, so a team's own `public` tables and migrations stay as they
   * are. A plain lower-case identifier. Default `breakwater` (`DATABASE_SCHEMA` in the
   * server and `breakwater migrate`).
   */
  readonly schema?: string
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
   * of creating one; wins over `memory` and `dataDir`. `close()` closes it. (To share a
   * PGlite with your own Kysely and keep it open, pass that Kysely instead.)
   */
  readonly pglite?: PGliteInstance
  /** Run {@link migrateToLatest} before returning. Default `true`. */
  readonly migrate?: boolean
  /**
   * How revocations reach `database.revocations`. Default `notify`; with a Kysely passed in,
   * `notify` needs `listenUrl` (a Kysely does not reveal how to open a connection of its
   * own), and without it becomes `poll`.
   */
  readonly revocationSync?: RevocationSync
  /**
   * PostgreSQL only: a URL for the LISTEN connection when the main URL goes through a
   * pooler that cannot hold LISTEN (PgBouncer in transaction mode). Default: the main URL,
   * or a passed `pg.Pool`'s own connection settings (`pool.options`).
   */
  readonly listenUrl?: string
  /** Tuning of `revocationSync: 'notify'` on PostgreSQL. */
  readonly notify?: NotifyOptions
  /** Tuning of `revocationSync: 'poll'`. */
  readonly poll?: PollOptions
  /** PostgreSQL from a URL only: settings of the pool Breakwater opens (not of yours). */
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
  /** Which engine: `postgres` (a URL or a pool) or `pglite` (embedded, or a PGlite Kysely). */
  readonly kind: 'postgres' | 'pglite'
  /** The PostgreSQL schema every query of `db` goes to (`options.schema`). */
  readonly schema: string
  /**
   * The typed query builder the query functions take. Every table it names is qualified
   * with `schema`; for a team's own tables in the same transaction, see `teamExecutor`.
   */
  readonly db: Kysely<BreakwaterSchema>
  /** Revocations by any process on this database (SPEC §4: "within 1 s"). */
  readonly revocations: RevocationFeed
  /**
   * For logs: the URL without its password (or a passed pool's settings, likewise), the
   * data directory, `memory`, or `kysely` for a Kysely passed in.
   */
  readonly location: string
  /**
   * The resolved (absolute) data directory of an on-disk embedded database, where files
   * that belong beside it (the generated `BREAKWATER_SECRET`) go; `undefined` for
   * PostgreSQL, in-memory PGlite, or a PGlite instance passed in `options.pglite`.
   */
  readonly dataDir: string | undefined
  /** Resolves when the database answers; rejects with `DB_UNAVAILABLE` otherwise (`/readyz`). */
  ping(): Promise<void>
  /**
   * Stops the revocation feed and closes every connection Breakwater opened. Idempotent.
   * A `pg.Pool` or `Kysely` passed in stays open: it is its owner's to close.
   */
  close(): Promise<void>
}

/**
 * Opens the Breakwater database: PostgreSQL through `pg` when `source` is a
 * `postgres://` or `postgresql://` URL or a `pg.Pool`, the database of a `Kysely` passed
 * in, else the embedded PGlite (persisted in the data directory, or in memory). Same
 * schema, same queries, same results on all of them.
 *
 * Every table lives in `options.schema` (`breakwater`), so Breakwater shares a database
 * with a team's own tables and migrations without touching them.
 *
 * Checks connectivity, runs migrations (unless `migrate: false`) and starts the
 * revocation feed before resolving.
 *
 * @example
 * ```ts
 * const database = await createDatabase(process.env.DATABASE_URL)
 * const user = await findUserByEmail(database.db, 'ada@example.com')
 * await database.close()
 *
 * // In a team's application, on its own pool, its tables left alone:
 * const shared = await createDatabase(pool, { schema: 'auth' })
 * ```
 *
 * @throws {TypeError} a bad option (`schema` not a plain identifier), or a source of
 *   another kind.
 * @throws {DatabaseUrlInvalid} `DB_URL_INVALID`: not a parseable postgres URL.
 * @throws {DatabaseUnavailable} `DB_UNAVAILABLE`: the server cannot be reached.
 * @throws {DataDirUnwritable} `DB_DATA_DIR_UNWRITABLE`: the data directory cannot be written.
 * @throws {DataDirInsecure} `DB_DATA_DIR_INSECURE`: other users can read or write it.
 * @throws {EngineMissing} `DB_ENGINE_MISSING`: embedded, without `@electric-sql/pglite`.
 * @throws {SchemaTooNew} `DB_SCHEMA_TOO_NEW`: a newer `@breakwater/db` migrated it.
 * @throws {MigrationFailed} `DB_MIGRATION_FAILED`.
 */
export async function createDatabase(
  source?: DatabaseSource,
  options: CreateDatabaseOptions = {},
): Promise<Database> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA)
  if (options.listenUrl !== undefined) parsePostgresUrl(options.listenUrl)
  if (isPool(source) || isKysely(source)) {
    if (options.pool !== undefined) {
      throw new TypeError(
        '@breakwater/db: options.pool configures a pool Breakwater opens; yours is yours to configure',
      )
    }
    return isPool(source)
      ? openOnPool(source, false, schema, options)
      : openOnKysely(source, schema, options)
  }
  if (source !== undefined && typeof source !== 'string') {
    throw new TypeError(
      '@breakwater/db: createDatabase takes a postgres:// URL, a pg.Pool, a Kysely, or nothing',
    )
  }
  const url = source?.trim()
  return url ? openUrl(url, schema, options) : openPGlite(schema, options)
}

function isPool(source: unknown): source is pg.Pool {
  if (source instanceof pg.Pool) return true
  // Another copy of `pg` (a team's own version) makes another Pool class.
  const s = source as Partial<pg.Pool> | null
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.connect === 'function' &&
    typeof s.end === 'function' &&
    typeof s.options === 'object' &&
    typeof s.totalCount === 'number'
  )
}

// biome-ignore lint/suspicious/noExplicitAny: a team's Kysely, whatever its schema type
function isKysely(source: unknown): source is Kysely<any> {
  if (source instanceof Kysely) return true
  // Likewise another copy of kysely: the public API the borrowed dialect calls.
  const s = source as Partial<Kysely<unknown>> | null
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.getExecutor === 'function' &&
    typeof s.withoutPlugins === 'function' &&
    typeof s.connection === 'function' &&
    typeof s.transaction === 'function'
  )
}
