import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

/**
 * SPEC §9 "a newer token voids the older", enforced by the database: at most one row per
 * user and purpose. Issuing was a delete then an insert, and two requests at once on
 * PostgreSQL (read committed) could both delete nothing and both insert, leaving two
 * live tokens. With this unique index issuing is one `INSERT … ON CONFLICT DO UPDATE`.
 * Duplicates left by that race go first, the newest of each pair kept (the one whose
 * link was mailed last).
 */
export async function up(db: AnyDb): Promise<void> {
  await sql`delete from one_time_tokens older using one_time_tokens newer
    where newer.user_id = older.user_id and newer.purpose = older.purpose
      and (newer.created_at, newer.id) > (older.created_at, older.id)`.execute(db)
  await db.schema.dropIndex('one_time_tokens_user_purpose_idx').execute()
  await db.schema
    .createIndex('one_time_tokens_user_purpose_key')
    .on('one_time_tokens')
    .columns(['user_id', 'purpose'])
    .unique()
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('one_time_tokens_user_purpose_key').execute()
  await db.schema
    .createIndex('one_time_tokens_user_purpose_idx')
    .on('one_time_tokens')
    .columns(['user_id', 'purpose'])
    .execute()
}
