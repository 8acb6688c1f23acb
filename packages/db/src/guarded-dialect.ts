import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely'
import { translateError } from './errors.js'

// Kysely's option bag for abortable driver calls; not exported under a stable name.
type Abortable = Parameters<Driver['init']>[0]

/**
 * Wraps a kysely dialect so that every driver failure leaves through
 * {@link translateError}: whatever the driver, the pool or PGlite throws, on any call (a
 * query, a stream, a transaction, a savepoint, the migrator, closing), arrives as a
 * `DatabaseError` with a stable code. A refused connection, a dropped socket or a timeout
 * is `DB_UNAVAILABLE` wherever it happens, so callers check
 * `error instanceof DatabaseError && error.code === 'DB_UNAVAILABLE'` (or
 * `isUnavailableError`) and never a message, and no query function has to remember to
 * catch anything.
 */
export function guardDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new GuardedDriver(inner.createDriver()),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw translateError(error)
  }
}

class GuardedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection

  constructor(inner: DatabaseConnection) {
    this.inner = inner
  }

  executeQuery<R>(query: CompiledQuery, options?: Abortable): Promise<QueryResult<R>> {
    return guard(() => this.inner.executeQuery<R>(query, options))
  }

  async *streamQuery<R>(
    query: CompiledQuery,
    chunkSize: number,
    options?: Abortable,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize, options)
    } catch (error) {
      throw translateError(error)
    }
  }
}

// The inner driver only ever sees its own connections, so unwrap before delegating.
const unwrap = (c: DatabaseConnection): DatabaseConnection =>
  c instanceof GuardedConnection ? c.inner : c

class GuardedDriver implements Driver {
  readonly #inner: Driver

  constructor(inner: Driver) {
    this.#inner = inner
  }

  init(options?: Abortable): Promise<void> {
    return guard(() => this.#inner.init(options))
  }

  async acquireConnection(options?: Abortable): Promise<DatabaseConnection> {
    return new GuardedConnection(await guard(() => this.#inner.acquireConnection(options)))
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guard(() => this.#inner.beginTransaction(unwrap(c), settings))
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return guard(() => this.#inner.commitTransaction(unwrap(c)))
  }

  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return guard(() => this.#inner.rollbackTransaction(unwrap(c)))
  }

  async savepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    await guard(async () => this.#inner.savepoint?.(unwrap(c), name, compile))
  }

  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ) {
    await guard(async () => this.#inner.rollbackToSavepoint?.(unwrap(c), name, compile))
  }

  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ) {
    await guard(async () => this.#inner.releaseSavepoint?.(unwrap(c), name, compile))
  }

  releaseConnection(c: DatabaseConnection, options?: Abortable): Promise<void> {
    return guard(() => this.#inner.releaseConnection(unwrap(c), options))
  }

  destroy(options?: Abortable): Promise<void> {
    return guard(() => this.#inner.destroy(options))
  }
}
