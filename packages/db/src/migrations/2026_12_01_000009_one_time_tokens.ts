import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

/**
 * SPEC §9: email verification, password reset, email change and sign-in codes. A token
 * is stored only as a keyed hash (the server's HMAC, so a dump cannot even brute-force a
 * 6-digit code); one live token per user and purpose (a newer one replaces the older);
 * single use by an atomic `used_at` update. `users.email_verified_at` records the
 * verification.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('one_time_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) =>
      c
        .notNull()
        .check(sql`purpose in ('verify_email', 'reset_password', 'change_email', 'sign_in_code')`),
    )
    .addColumn('token_hash', 'text', (c) =>
      c.notNull().check(sql`char_length(token_hash) between 16 and 128`),
    )
    .addColumn('data', 'jsonb')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('one_time_tokens_hash_key')
    .on('one_time_tokens')
    .columns(['purpose', 'token_hash'])
    .unique()
    .execute()
  // "One live token per user and purpose": issuing deletes by these two.
  await db.schema
    .createIndex('one_time_tokens_user_purpose_idx')
    .on('one_time_tokens')
    .columns(['user_id', 'purpose'])
    .execute()
  await db.schema
    .createIndex('one_time_tokens_expires_at_idx')
    .on('one_time_tokens')
    .column('expires_at')
    .execute()
  await db.schema.alterTable('users').addColumn('email_verified_at', 'timestamptz').execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('email_verified_at').execute()
  await db.schema.dropTable('one_time_tokens').execute()
}
