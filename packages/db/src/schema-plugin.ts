import { type KyselyPlugin, type RawBuilder, sql, WithSchemaPlugin } from 'kysely'

/** The PostgreSQL schema Breakwater's tables live in unless told otherwise (SPEC §2). */
export const DEFAULT_SCHEMA = 'breakwater'

// A plain, unquoted-safe identifier of at most 63 bytes (NAMEDATALEN - 1), so the name
// can go into SQL, a channel name and a message without quoting rules.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Checks the `schema` option once, where the database is opened.
 *
 * @throws {TypeError} unless a plain lower-case identifier that PostgreSQL lets users
 *   create (`pg_*` and `information_schema` are the system's).
 */
export function checkSchemaName(schema: unknown, option = 'schema'): string {
  if (
    typeof schema !== 'string' ||
    !SCHEMA_NAME.test(schema) ||
    schema.startsWith('pg_') ||
    schema === 'information_schema'
  ) {
    throw new TypeError(
      `@breakwater/db: ${option} must be a plain lower-case identifier (${SCHEMA_NAME.source}, not pg_* or information_schema), got ${JSON.stringify(String(schema).slice(0, 80))}`,
    )
  }
  return schema
}

/**
 * kysely's `WithSchemaPlugin` (every table the builder names is qualified with `schema`)
 * that also remembers the schema, so query functions, which only receive `db`, can find
 * it for the few things the builder cannot qualify: raw `sql` fragments, statements
 * compiled ahead of time, the NOTIFY channel. `outer` keeps the plugins of a Kysely a
 * team passed in, which Breakwater's own queries run without (a `CamelCasePlugin` would
 * rename their result columns) and {@link teamExecutor} gives back.
 */
export class BreakwaterSchemaPlugin extends WithSchemaPlugin {
  readonly schema: string
  readonly outer: readonly KyselyPlugin[]

  constructor(schema: string, outer: readonly KyselyPlugin[] = []) {
    super(schema)
    this.schema = schema
    this.outer = outer
  }
}

/** Anything with kysely's executor: a `Kysely`, a `Transaction`. */
interface HasExecutor {
  getExecutor(): { readonly plugins: readonly KyselyPlugin[] }
}

/** The {@link BreakwaterSchemaPlugin} of `db`, if it has one. */
export function schemaPluginOf(db: HasExecutor): BreakwaterSchemaPlugin | undefined {
  for (const plugin of db.getExecutor().plugins) {
    if (plugin instanceof BreakwaterSchemaPlugin) return plugin
  }
  return undefined
}

/**
 * The schema `db`'s queries go to, or `undefined` for a Kysely without one (its tables
 * then resolve through the connection's `search_path`, as before schemas).
 */
export function schemaOf(db: HasExecutor): string | undefined {
  return schemaPluginOf(db)?.schema
}

/**
 * `name` as a table reference for a raw `sql` fragment, qualified with `db`'s schema:
 * kysely's schema plugin qualifies only the tables the builder itself names.
 */
export function tableOf(db: HasExecutor, name: string): RawBuilder<unknown> {
  const schema = schemaOf(db)
  return sql.table(schema === undefined ? name : `${schema}.${name}`) as RawBuilder<unknown>
}
