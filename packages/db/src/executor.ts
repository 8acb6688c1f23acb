import type { Kysely, Transaction } from 'kysely'
import type { BreakwaterSchema } from './schema.js'
import { schemaPluginOf } from './schema-plugin.js'

/**
 * What every query function takes first: the database, or a transaction on it, so
 * callers compose several queries atomically with `db.transaction().execute(trx => …)`.
 */
export type Executor = Kysely<BreakwaterSchema> | Transaction<BreakwaterSchema>

/** Runs `work` in a transaction, or inside the caller's transaction when given one. */
export function inTransaction<T>(
  db: Executor,
  work: (trx: Transaction<BreakwaterSchema>) => Promise<T>,
): Promise<T> {
  return db.isTransaction
    ? work(db as Transaction<BreakwaterSchema>)
    : db.transaction().execute(work)
}

/**
 * A transaction for a team's own tables (see {@link teamTransaction}); `DB` is the team's
 * kysely schema type.
 */
// biome-ignore lint/suspicious/noExplicitAny: the team's schema type is the team's
export type TeamTransaction<DB = any> = Transaction<DB>

/**
 * The same transaction, for a team's own queries: without Breakwater's schema, so
 * `insertInto('profiles')` finds the team's table through its `search_path` (`public`),
 * and with the plugins of the Kysely the team passed to `createDatabase`, if it passed
 * one. What the server hands `beforeCreateUser` / `afterCreateUser`, so the team's rows
 * commit or roll back with the new user.
 *
 * kysely's `withoutPlugins()` alone would do for the schema (it drops every plugin, the
 * schema plugin included, and keeps the transaction) but would also drop the team's own
 * (a `CamelCasePlugin`).
 *
 * @example
 * ```ts
 * await inTransaction(database.db, async (trx) => {
 *   const user = await createUser(trx, input)
 *   await teamTransaction<TeamDb>(trx).insertInto('profiles').values({ user_id: user.id }).execute()
 * })
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: the team's schema type is the team's
export function teamTransaction<DB = any>(trx: Transaction<BreakwaterSchema>): TeamTransaction<DB> {
  const outer = schemaPluginOf(trx)?.outer ?? []
  let team = (trx as unknown as Transaction<DB>).withoutPlugins()
  for (const plugin of outer) team = team.withPlugin(plugin)
  return team
}
