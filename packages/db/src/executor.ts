import type { Kysely, Transaction } from 'kysely'
import type { BreakwaterSchema } from './schema.js'

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
