import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey().check(sql`char_length(key) between 1 and 512`))
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('window_seconds', 'integer', (c) => c.notNull().check(sql`window_seconds > 0`))
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('previous_count', 'integer', (c) => c.notNull())
    .execute()
  // Pruning scans by window start.
  await db.schema
    .createIndex('rate_limits_window_start_idx')
    .on('rate_limits')
    .column('window_start')
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('rate_limits').execute()
}
