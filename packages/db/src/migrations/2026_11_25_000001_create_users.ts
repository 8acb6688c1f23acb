import { type Kysely, sql } from 'kysely'

// Migrations take Kysely<any> on purpose (kysely's own advice): they must keep compiling
// as the schema types move on, so they cannot depend on today's table interfaces.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyDb = Kysely<any>

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // 320 = 64 (local part) + 1 + 255 (domain), the RFC 5321 ceiling.
    .addColumn('email', 'text', (c) => c.notNull().check(sql`char_length(email) between 3 and 320`))
    .addColumn('password_hash', 'text', (c) =>
      c.notNull().check(sql`char_length(password_hash) <= 1024`),
    )
    .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('display_name', 'text', (c) => c.check(sql`char_length(display_name) <= 200`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()

  // Uniqueness is case-insensitive over the whole address; lookups use the same
  // expression so they hit this index.
  await db.schema
    .createIndex('users_email_lower_key')
    .on('users')
    .unique()
    .expression(sql`lower(email)`)
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('users').execute()
}
