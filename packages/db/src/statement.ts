import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely'
import type { BreakwaterSchema } from './schema.js'
import { BreakwaterSchemaPlugin, schemaOf } from './schema-plugin.js'

/**
 * A query written once with kysely's typed builder and compiled once, then executed
 * many times with fresh parameters: the hot path (refresh rotation) skips building and
 * compiling on every call, which is most of the builder's per-call CPU cost.
 *
 * The builder receives sentinel values; after compiling, each positional parameter is
 * mapped back to the named input it stands for, whatever order the SQL uses them in.
 * Both engines speak PostgreSQL, so one compilation serves PGlite and `pg`; each schema
 * gets its own (on first use), since a compiled query bypasses kysely's schema plugin.
 */
export interface PreparedStatement<Params extends string, Row> {
  /** The SQL for the schema of `db`. */
  sqlFor(db: Parameters<typeof schemaOf>[0]): string
  /** A query for `db` (its schema's compilation) with these values. */
  bind(
    db: Parameters<typeof schemaOf>[0],
    values: Readonly<Record<Params, unknown>>,
  ): CompiledQuery<Row>
}

// Compiles without ever connecting (kysely's documented "cold" setup).
const compiler = new Kysely<BreakwaterSchema>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
})

/**
 * Prepares a statement. `build` gets the compile-only Kysely and `p(name)`, a sentinel to
 * use wherever the parameter `name` goes (typed as whatever the column needs).
 */
export function prepare<const Params extends string, Row>(
  names: readonly Params[],
  build: (
    db: Kysely<BreakwaterSchema>,
    p: <T>(name: Params) => T,
  ) => { compile(): CompiledQuery<Row> },
): PreparedStatement<Params, Row> {
  const sentinel = (name: string) => `\u0000breakwater-param:${name}\u0000`
  const compile = (schema: string | undefined) => {
    const on =
      schema === undefined ? compiler : compiler.withPlugin(new BreakwaterSchemaPlugin(schema))
    const compiled = build(on, (name) => sentinel(name) as never).compile()
    const order = compiled.parameters.map((value) => {
      const name = names.find((n) => sentinel(n) === value)
      if (name === undefined) {
        throw new Error('@breakwater/db: prepared statement has a literal parameter')
      }
      return name
    })
    return { sql: compiled.sql, order }
  }
  // Compiled now for the schema-less form, so a builder mistake fails at import.
  const bySchema = new Map<string | undefined, ReturnType<typeof compile>>([
    [undefined, compile(undefined)],
  ])
  const forDb = (db: Parameters<typeof schemaOf>[0]) => {
    const schema = schemaOf(db)
    let compiled = bySchema.get(schema)
    if (compiled === undefined) {
      compiled = compile(schema)
      bySchema.set(schema, compiled)
    }
    return compiled
  }
  return {
    sqlFor: (db) => forDb(db).sql,
    bind: (db, values) => {
      const { sql, order } = forDb(db)
      return CompiledQuery.raw(
        sql,
        order.map((name) => values[name]),
      ) as CompiledQuery<Row>
    },
  }
}
