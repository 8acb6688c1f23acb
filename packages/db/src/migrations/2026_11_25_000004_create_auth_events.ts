import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

export async function up(db: AnyDb): Promise<void> {
  // No foreign keys: the audit trail outlives the users and sessions it mentions.
  await db.schema
    .createTable('auth_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`char_length(type) between 1 and 64`))
    .addColumn('user_id', 'uuid')
    .addColumn('session_id', 'uuid')
    .addColumn('ip', 'text', (c) => c.check(sql`char_length(ip) <= 64`))
    .addColumn('user_agent', 'text', (c) => c.check(sql`char_length(user_agent) <= 512`))
    .addColumn('details', 'jsonb')
    .execute()

  await db.schema
    .createIndex('auth_events_user_id_occurred_at_idx')
    .on('auth_events')
    .columns(['user_id', 'occurred_at'])
    .execute()
  await db.schema
    .createIndex('auth_events_occurred_at_idx')
    .on('auth_events')
    .column('occurred_at')
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('auth_events').execute()
}
