import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('idle_expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text', (c) => c.check(sql`char_length(revoked_reason) <= 64`))
    .addColumn('user_agent', 'text', (c) => c.check(sql`char_length(user_agent) <= 512`))
    .addColumn('ip', 'text', (c) => c.check(sql`char_length(ip) <= 64`))
    .addColumn('current_token_hash', 'text', (c) =>
      c.notNull().check(sql`char_length(current_token_hash) <= 128`),
    )
    .addColumn('previous_token_hash', 'text', (c) =>
      c.check(sql`char_length(previous_token_hash) <= 128`),
    )
    .addColumn('rotated_at', 'timestamptz')
    .addColumn('successor_sealed', 'text', (c) =>
      c.check(sql`char_length(successor_sealed) <= 1024`),
    )
    .execute()

  // The rotation statement finds its row through this index.
  await db.schema
    .createIndex('sessions_current_token_hash_key')
    .on('sessions')
    .column('current_token_hash')
    .unique()
    .execute()
  await db.schema.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute()
  // Start-up and polling read "revoked since t"; most rows are never revoked.
  await db.schema
    .createIndex('sessions_revoked_at_idx')
    .on('sessions')
    .column('revoked_at')
    .where(sql.ref('revoked_at'), 'is not', null)
    .execute()

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) =>
      c.primaryKey().check(sql`char_length(token_hash) <= 128`),
    )
    .addColumn('session_id', 'uuid', (c) =>
      c.notNull().references('sessions.id').onDelete('cascade'),
    )
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('refresh_tokens_session_id_idx')
    .on('refresh_tokens')
    .column('session_id')
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('refresh_tokens').execute()
  await db.schema.dropTable('sessions').execute()
}
