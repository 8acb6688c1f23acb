/**
 * Typed failures of `@breakwater/db`. Every error this package throws on purpose is a
 * {@link DatabaseError} with a stable {@link DatabaseErrorCode}, so callers switch on
 * `code` and never parse messages. Messages never contain a password: URLs are redacted
 * before they are quoted (see {@link redactUrl}).
 *
 * Misuse (a bad option type, a negative TTL) throws a plain `TypeError` instead, so a
 * caller bug never looks like an outage.
 *
 * @module
 */

/** Stable codes; the server maps them to SPEC §3 reasons (`DB_UNAVAILABLE`, `EMAIL_TAKEN`). */
export type DatabaseErrorCode =
  | 'DB_URL_INVALID'
  | 'DB_UNAVAILABLE'
  | 'DB_DATA_DIR_UNWRITABLE'
  | 'DB_DATA_DIR_INSECURE'
  | 'DB_MIGRATION_FAILED'
  | 'DB_SCHEMA_TOO_NEW'
  | 'DB_ENGINE_MISSING'
  | 'DB_INVALID_INPUT'
  | 'DB_QUERY_FAILED'
  | 'EMAIL_TAKEN'

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   await createUser(db, input)
 * } catch (error) {
 *   if (error instanceof DatabaseError && error.code === 'EMAIL_TAKEN') return conflict()
 *   throw error
 * }
 * ```
 */
export class DatabaseError extends Error {
  /** Stable, switchable code. */
  readonly code: DatabaseErrorCode

  constructor(code: DatabaseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DatabaseError'
    this.code = code
  }
}

/** The database URL is not a `postgres://` / `postgresql://` URL that can be parsed. */
export class DatabaseUrlInvalid extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_URL_INVALID', message, options)
    this.name = 'DatabaseUrlInvalid'
  }
}

/** The server cannot be reached, dropped the connection, or timed out. Retry later. */
export class DatabaseUnavailable extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_UNAVAILABLE', message, options)
    this.name = 'DatabaseUnavailable'
  }
}

/** The embedded database's data directory cannot be created or written. */
export class DataDirUnwritable extends DatabaseError {
  /** The directory that was tried (a path, never a secret). */
  readonly dataDir: string

  constructor(dataDir: string, options?: { cause?: unknown }) {
    super('DB_DATA_DIR_UNWRITABLE', `data directory is not writable: ${dataDir}`, options)
    this.name = 'DataDirUnwritable'
    this.dataDir = dataDir
  }
}

/**
 * The embedded database's data directory can be read or written by other users (SPEC §2:
 * it holds the WAL, and with it every value ever written). The message is one line that
 * names the directory, its mode and the fix.
 */
export class DataDirInsecure extends DatabaseError {
  /** The directory that was refused (a path, never a secret). */
  readonly dataDir: string
  /** Its permission bits, e.g. `0o755`. */
  readonly mode: number

  constructor(dataDir: string, mode: number) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0')
    super(
      'DB_DATA_DIR_INSECURE',
      `data directory ${dataDir} has mode ${octal}: other users can read or write it; run \`chmod 700 ${dataDir}\``,
    )
    this.name = 'DataDirInsecure'
    this.dataDir = dataDir
    this.mode = mode & 0o7777
  }
}

/**
 * A migration failed (it was rolled back; the schema stays at the last good one), or the
 * migration history is inconsistent. `migration` names the one that failed, if known; the
 * message, one line, carries the real cause PostgreSQL gave (`relation "users" already
 * exists`), with any URL's password redacted.
 */
export class MigrationFailed extends DatabaseError {
  readonly migration: string | undefined

  constructor(migration: string | undefined, options?: { cause?: unknown }) {
    const reason = causeText(options?.cause)
    const what = migration ? `migration ${migration} failed` : 'migration failed'
    super('DB_MIGRATION_FAILED', reason ? `${what}: ${reason}` : what, options)
    this.name = 'MigrationFailed'
    this.migration = migration
  }
}

/**
 * The database schema was migrated by a newer `@breakwater/db` (its history holds a
 * migration this version does not know): running older code on it could corrupt data,
 * so it is refused until this package is upgraded.
 */
export class SchemaTooNew extends DatabaseError {
  /** The PostgreSQL schema, e.g. `breakwater`. */
  readonly schema: string
  /** The newest migration the database has applied. */
  readonly databaseVersion: string
  /** The newest migration this package knows. */
  readonly packageVersion: string

  constructor(schema: string, databaseVersion: string, packageVersion: string) {
    super(
      'DB_SCHEMA_TOO_NEW',
      `database schema "${schema}" is at ${databaseVersion}, newer than this @breakwater/db (${packageVersion}): upgrade it`,
    )
    this.name = 'SchemaTooNew'
    this.schema = schema
    this.databaseVersion = databaseVersion
    this.packageVersion = packageVersion
  }
}

/** The embedded engine was asked for, but the optional `@electric-sql/pglite` is not installed. */
export class EngineMissing extends DatabaseError {
  constructor(options?: { cause?: unknown }) {
    super(
      'DB_ENGINE_MISSING',
      'the embedded database needs @electric-sql/pglite (npm install @electric-sql/pglite), or set DATABASE_URL',
      options,
    )
    this.name = 'EngineMissing'
  }
}

/** A value the schema rejects: too long, a NUL byte, out of range. */
export class InvalidInput extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_INVALID_INPUT', message, options)
    this.name = 'InvalidInput'
  }
}

/**
 * The database refused a statement for a reason that is neither an outage nor bad input:
 * a constraint the query function did not expect, a programming error, a corrupt value.
 * `sqlState` and `constraint` say which, so callers never parse the message; the message
 * itself quotes neither values nor parameters.
 */
export class QueryFailed extends DatabaseError {
  /** The SQLSTATE the server reported, when it reported one. */
  readonly sqlState: string | undefined
  /** The constraint that was violated, when one was. */
  readonly constraint: string | undefined

  constructor(
    sqlState: string | undefined,
    constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    const what = [
      sqlState && `SQLSTATE ${sqlState}`,
      constraint && `constraint ${constraint}`,
    ].filter(Boolean)
    super('DB_QUERY_FAILED', `query failed${what.length ? ` (${what.join(', ')})` : ''}`, options)
    this.name = 'QueryFailed'
    this.sqlState = sqlState
    this.constraint = constraint
  }
}

/** A user with this email (by its canonical form, see `canonicalEmail`) already exists. */
export class EmailTaken extends DatabaseError {
  constructor(options?: { cause?: unknown }) {
    super('EMAIL_TAKEN', 'a user with this email already exists', options)
    this.name = 'EmailTaken'
  }
}

/**
 * Returns `url` with its password replaced by `***`, for messages and logs.
 * Unparseable input yields a fixed placeholder rather than the raw string, since
 * the raw string may hold a password in a shape `URL` cannot find.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable url>'
  }
}

// A URL with credentials anywhere in free text (a driver message, a migration's own
// error): the password goes, whatever the scheme.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi

/**
 * What actually went wrong, for a message: the innermost message down the `cause` chain
 * (the driver's, e.g. `relation "users" already exists`, under our translated wrapper),
 * with its SQLSTATE, on one line, passwords in URLs redacted.
 */
export function causeText(error: unknown): string | undefined {
  let text: string | undefined
  let state: string | undefined
  let current: unknown = error
  for (let depth = 0; depth < 16 && current instanceof Error; depth++) {
    // Our own wrappers summarise; the driver's message below them says what happened.
    if (!(current instanceof DatabaseError) || text === undefined) text = current.message
    state ??= sqlState(current)
    current = (current as { cause?: unknown }).cause
  }
  if (!text) return undefined
  const line = text.replace(URL_PASSWORD, '$1***@').replace(/\s+/g, ' ').trim()
  return state && !line.includes(state) ? `${line} (SQLSTATE ${state})` : line
}

// SQLSTATE classes and codes that mean "the server is not there for you right now":
// 08 connection exception, 57P01-57P03 shutdown / starting up, 53300 too many
// connections, 53000 insufficient resources, 57014 statement timeout (an overloaded
// server looks the same to a user), 28xxx / 3D000 bad credentials or no such database
// (unusable until an operator acts).
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
  '53000',
  '28P01',
  '28000',
  '3D000',
])

// 22001 string too long, 22021 bad byte sequence (NUL), 22P02 bad text representation,
// 22003 numeric out of range, 23514 check constraint, 22007/22008 bad datetime, 54000
// program limit (an index row too large for a huge value).
const INVALID_INPUT_SQLSTATES = new Set([
  '22001',
  '22021',
  '22P02',
  '22003',
  '23514',
  '22007',
  '22008',
  '54000',
])

// Built-in error classes that mean a bug (ours or the caller's), never an outage: a value
// the driver cannot serialise, a circular JSON, a broken invariant.
const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError]

// SQLSTATEs are five characters from [0-9A-Z] and no class starts with `E` (the classes
// are 00-58, F0, HV, P0, XX), while errno codes such as `EPIPE` or `EBUSY` are also five
// upper-case letters: the first character tells them apart, structurally.
const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/

/**
 * Whether `error` means the database cannot be reached: a {@link DatabaseError} with code
 * `DB_UNAVAILABLE`, itself or anywhere down its `cause` chain (a caller's wrapper, a
 * tRPC error). A code check only: every driver failure is translated into a
 * `DatabaseError` where it leaves the driver (see `guarded-dialect.ts`), so no message
 * is ever matched.
 */
export function isUnavailableError(error: unknown): boolean {
  let current: unknown = error
  // Bounded: a cause chain can be cyclic.
  for (let depth = 0; depth < 16 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof DatabaseError && current.code === 'DB_UNAVAILABLE') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/** SQLSTATE of a driver error (or of a {@link QueryFailed}), if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (error instanceof QueryFailed) return error.sqlState
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined
}

/** Name of the constraint a driver error (or a {@link QueryFailed}) reports, if any. */
export function constraintName(error: unknown): string | undefined {
  if (error instanceof QueryFailed) return error.constraint
  if (typeof error !== 'object' || error === null) return undefined
  const constraint = (error as { constraint?: unknown }).constraint
  return typeof constraint === 'string' ? constraint : undefined
}

// PGlite attaches the statement's parameters to its errors (`params`): token hashes,
// sealed successors, password hashes. The error becomes our `cause`, which loggers
// serialise, so drop them; the SQL text stays for debugging.
function scrub(error: object): void {
  if (Object.hasOwn(error, 'params')) {
    try {
      ;(error as { params?: unknown }).params = '[redacted]'
    } catch {
      // A frozen error keeps them; nothing else to do.
    }
  }
}

/**
 * Maps a failure raised by a driver (`pg`, its pool, PGlite) to a {@link DatabaseError}.
 * Called wherever an error leaves a driver, so everything past that boundary is a
 * `DatabaseError` with a stable code. Structural, never by message:
 *
 * - already a `DatabaseError`: unchanged;
 * - a SQLSTATE from the server: class 08 and the codes above → {@link DatabaseUnavailable};
 *   bad values → {@link InvalidInput}; anything else → {@link QueryFailed} (with
 *   `sqlState` and `constraint`, for the query functions that expect a violation);
 * - a programming error (`TypeError`, …) → {@link QueryFailed};
 * - anything else (an errno such as `ECONNREFUSED`, an `AggregateError` of them, node-
 *   postgres's "Connection terminated" or pool timeouts, a closed PGlite): the server
 *   never answered, so → {@link DatabaseUnavailable}.
 */
export function translateError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error
  if (typeof error === 'object' && error !== null) scrub(error)
  const state = sqlState(error)
  if (state !== undefined) {
    if (state.startsWith('08') || UNAVAILABLE_SQLSTATES.has(state)) {
      return new DatabaseUnavailable(`database unavailable (SQLSTATE ${state})`, { cause: error })
    }
    if (INVALID_INPUT_SQLSTATES.has(state)) {
      return new InvalidInput(`value rejected by the database (${state})`, { cause: error })
    }
    return new QueryFailed(state, constraintName(error), { cause: error })
  }
  if (PROGRAMMING_ERRORS.some((type) => error instanceof type)) {
    return new QueryFailed(undefined, undefined, { cause: error })
  }
  return new DatabaseUnavailable('database unavailable', { cause: error })
}
