import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type Transaction,
  type TransactionSettings,
} from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: the team's Kysely, whatever its schema type
type AnyKysely = Kysely<any>

/**
 * A dialect over a Kysely a team passed in (SPEC §8): each connection is one of the
 * team's, borrowed through `connection()` and given back on release; transactions go
 * through the team's own driver (PGlite needs its exclusive `transaction()`), and
 * `destroy` closes nothing, since Breakwater did not open it. Wrapped by `guardDialect`
 * like every other, so its failures arrive as `DatabaseError`s too, which a team's
 * Kysely alone would not give the query functions (`EMAIL_TAKEN` needs them).
 *
 * Breakwater's queries run without the team's plugins: a `CamelCasePlugin` would rename
 * the columns they read. `teamExecutor` gives the plugins back for the team's queries.
 */
export function borrowDialect(team: AnyKysely): Dialect {
  const bare = team.withoutPlugins()
  return {
    // The team's adapter: the PostgreSQL advisory migration lock, or PGlite's single
    // connection (which makes kysely serialise this side's use of it as well).
    createAdapter: () => team.getExecutor().adapter,
    createDriver: () => new BorrowedDriver(bare),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  }
}

// Thrown inside the team's transaction callback to make its driver roll back.
const ROLLBACK = Symbol('rollback')

interface OpenTransaction {
  readonly trx: Transaction<unknown>
  readonly end: (commit: boolean) => void
  readonly done: Promise<void>
}

class BorrowedConnection implements DatabaseConnection {
  readonly #scope: AnyKysely
  readonly release: () => void
  #open: OpenTransaction | undefined

  constructor(scope: AnyKysely, release: () => void) {
    this.#scope = scope
    this.release = release
  }

  get #target(): AnyKysely {
    return this.#open?.trx ?? this.#scope
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#target.executeQuery(query as CompiledQuery<R>)
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#target.getExecutor().stream(query as CompiledQuery<R>, chunkSize)
  }

  async begin(settings: TransactionSettings): Promise<void> {
    let builder = this.#scope.transaction()
    if (settings.isolationLevel) builder = builder.setIsolationLevel(settings.isolationLevel)
    if (settings.accessMode) builder = builder.setAccessMode(settings.accessMode)
    let end!: (commit: boolean) => void
    const ended = new Promise<boolean>((resolve) => {
      end = resolve
    })
    let begun!: (trx: Transaction<unknown>) => void
    const started = new Promise<Transaction<unknown>>((resolve) => {
      begun = resolve
    })
    const done = builder.execute(async (trx) => {
      begun(trx)
      if (!(await ended)) throw ROLLBACK
    })
    // A failed BEGIN rejects `done` before the callback ever runs.
    const trx = await Promise.race([started, done.then(() => undefined)])
    if (trx === undefined) throw new Error('@breakwater/db: transaction ended before it began')
    this.#open = { trx, end, done }
  }

  async finish(commit: boolean): Promise<void> {
    const open = this.#open
    this.#open = undefined
    if (!open) return
    open.end(commit)
    try {
      await open.done
    } catch (error) {
      if (error !== ROLLBACK) throw error
    }
  }
}

// Kysely quotes savepoint names itself elsewhere; these come from kysely's own API.
const savepointSql = (command: string, name: string) =>
  CompiledQuery.raw(`${command} "${name.replaceAll('"', '""')}"`)

class BorrowedDriver implements Driver {
  readonly #team: AnyKysely

  constructor(team: AnyKysely) {
    this.#team = team
  }

  async init(): Promise<void> {
    // The team's Kysely initialises itself on first use.
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return new Promise((resolve, reject) => {
      this.#team
        .connection()
        .execute(
          (scope) =>
            new Promise<void>((release) => resolve(new BorrowedConnection(scope, release))),
        )
        .catch(reject)
    })
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return (c as BorrowedConnection).begin(settings)
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return (c as BorrowedConnection).finish(true)
  }

  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return (c as BorrowedConnection).finish(false)
  }

  async savepoint(c: DatabaseConnection, name: string): Promise<void> {
    await c.executeQuery(savepointSql('savepoint', name))
  }

  async rollbackToSavepoint(c: DatabaseConnection, name: string): Promise<void> {
    await c.executeQuery(savepointSql('rollback to savepoint', name))
  }

  async releaseSavepoint(c: DatabaseConnection, name: string): Promise<void> {
    await c.executeQuery(savepointSql('release savepoint', name))
  }

  async releaseConnection(c: DatabaseConnection): Promise<void> {
    ;(c as BorrowedConnection).release()
  }

  async destroy(): Promise<void> {
    // Not ours to close: the team's Kysely, its pool and its PGlite stay open.
  }
}
