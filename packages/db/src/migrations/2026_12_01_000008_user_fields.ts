import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

/**
 * SPEC §8: a team's typed extra user fields (validated by the server's zod schema before
 * they get here), one JSON object per user. Existing users get `{}`; a constant default
 * makes this a catalogue-only change, whatever the table's size.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('fields', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
  // An object, never an array or a scalar: the server reads it by key. Bounded like
  // every other column, so a hostile sign-up cannot store megabytes per row.
  await db.schema
    .alterTable('users')
    .addCheckConstraint('users_fields_object', sql`jsonb_typeof(fields) = 'object'`)
    .execute()
  await db.schema
    .alterTable('users')
    .addCheckConstraint('users_fields_size', sql`octet_length(fields::text) <= 65536`)
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('fields').execute()
}
