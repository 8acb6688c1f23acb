// Added with Breakwater: the team's data about each Breakwater user, keyed by its id.
// It references `breakwater.users`, so it runs after Breakwater's own migrations
// (`createDatabase` applies them first; see ../../app.ts).
import { type Kysely, sql } from 'kysely'
import { BREAKWATER_SCHEMA } from '../constants.js'

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('profiles')
    .addColumn('user_id', 'uuid', (column) =>
      column.primaryKey().references(`${BREAKWATER_SCHEMA}.users.id`).onDelete('cascade'),
    )
    .addColumn('company', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('profiles').execute()
}
