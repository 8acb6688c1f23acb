import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey().check(sql`char_length(kid) between 1 and 128`))
    .addColumn('alg', 'text', (c) => c.notNull().check(sql`char_length(alg) <= 16`))
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('pending', 'active', 'retired')`),
    )
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('private_jwk', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('activated_at', 'timestamptz')
    .addColumn('retired_at', 'timestamptz')
    .addColumn('publish_until', 'timestamptz')
    .execute()

  // At most one key signs at a time, whatever races happen during rotation.
  await db.schema
    .createIndex('signing_keys_one_active_key')
    .on('signing_keys')
    .expression(sql`(state)`)
    .unique()
    .where(sql.ref('state'), '=', 'active')
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('signing_keys').execute()
}
