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
  | 'DB_MIGRATION_FAILED'
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

/** `migrateToLatest` reported an error; `migration` names the one that failed, if known. */
export class MigrationFailed extends DatabaseError {
  readonly migration: string | undefined

  constructor(migration: string | undefined, options?: { cause?: unknown }) {
    super(
      'DB_MIGRATION_FAILED',
      migration ? `migration failed: ${migration}` : 'migration failed',
      options,
    )
    this.name = 'MigrationFailed'
    this.migration = migration
  }
}

/** A value the schema rejects: too long, a NUL byte, out of range. */
export class InvalidInput extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_INVALID_INPUT', message, options)
    this.name = 'InvalidInput'
  }
}

/** A user with this email (compared case-insensitively) already exists. */
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

// SQLSTATE classes and codes that mean "the server is not there for you right now":
// 08 connection exception, 57P01-57P03 shutdown / starting up, 53300 too many
// connections, 57014 statement timeout (an overloaded server looks the same to a user),
// 28xxx / 3D000 bad credentials or no such database (unusable until an operator acts).
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
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
])
// node-postgres reports these without a code.
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Query read timeout',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end',
  'connection timeout',
]

/** Whether `error` (from `pg` or PGlite) means the database cannot be reached. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailable) return true
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) {
      return true
    }
  }
  // AggregateError from `net` when every address of a host refused.
  const nested = (error as { errors?: unknown }).errors
  if (Array.isArray(nested) && nested.some(isUnavailableError)) return true
  const message = (error as { message?: unknown }).message
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))
}

/** SQLSTATE of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** Name of the constraint a driver error reports, if any. */
export function constraintName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const constraint = (error as { constraint?: unknown }).constraint
  return typeof constraint === 'string' ? constraint : undefined
}

/**
 * Maps a driver error to a {@link DatabaseError} where one applies; anything else is
 * returned unchanged, so programming errors keep their stack and message.
 */
export function translateError(error: unknown): unknown {
  if (error instanceof DatabaseError) return error
  if (isUnavailableError(error)) {
    return new DatabaseUnavailable('database unavailable', { cause: error })
  }
  const state = sqlState(error)
  // 22001 string too long, 22021 bad byte sequence (NUL), 22P02 bad text representation,
  // 22003 numeric out of range, 23514 check constraint, 22007/22008 bad datetime.
  if (
    state === '22001' ||
    state === '22021' ||
    state === '22P02' ||
    state === '22003' ||
    state === '23514' ||
    state === '22007' ||
    state === '22008' ||
    state === '54000'
  ) {
    return new InvalidInput(`value rejected by the database (${state})`, { cause: error })
  }
  return error
}
