import { type Kysely, sql } from 'kysely'
// The one rule, shared with createUser and findUserByEmail: a backfill that disagreed
// with them would make accounts unfindable. If the rule ever changes, a later migration
// recomputes the column (this one has then already run wherever it mattered).
import { canonicalEmail, EMAIL_CANONICAL_MAX } from '../email.js'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

const BATCH = 500

/**
 * SPEC §6: one canonical email form (see `canonicalEmail`) decides uniqueness and
 * look-up; the address as typed stays in `email`, for display. Replaces the unique index
 * on `lower(email)`, under which `ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ`, `ada@example.com` and
 * `İ`/`i` spellings were different accounts and different rate-limit buckets.
 *
 * Also adds the indexes the retention jobs use (SPEC §4): erasing expired sealed
 * successors, and pruning refresh-token chains per session.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_canonical', 'text').execute()

  // Printable ASCII without white space (nearly every row): the canonical form is the
  // ASCII lower case, which `lower()` under the "C" collation computes exactly, whatever
  // the database's locale (a Turkish locale would lower `I` to `ı`).
  await sql`update users set email_canonical = lower(email collate "C")
    where email collate "C" ~ '^[!-~]*$'`.execute(db)
  // Everything else in JavaScript, with the function the queries use. SQL's
  // `lower(normalize(email, NFKC))` is close but not equal: its `lower()` follows the
  // database's locale (ASCII only under "C"), and it keeps the final sigma.
  for (;;) {
    const rows = (
      await sql<{ id: string; email: string }>`select id, email from users
        where email_canonical is null order by id limit ${BATCH}`.execute(db)
    ).rows
    for (const row of rows) {
      await sql`update users set email_canonical = ${canonicalEmail(row.email)}
        where id = ${row.id}`.execute(db)
    }
    if (rows.length < BATCH) break
  }

  // Accounts that were distinct under lower(email) but share a canonical form cannot be
  // merged by a migration (which of them is the owner's?). Refuse, without quoting
  // addresses, and leave the schema as it was (the migration runs in a transaction).
  const { rows: clashes } = await sql<{ n: number }>`select count(*)::int as n from (
      select 1 from users group by email_canonical having count(*) > 1) shared`.execute(db)
  const shared = clashes[0]?.n ?? 0
  if (shared > 0) {
    throw new Error(
      `${shared} canonical email address(es) belong to more than one account; ` +
        'resolve them before upgrading (see "Canonical emails" in the @breakwater/db README)',
    )
  }

  await db.schema
    .alterTable('users')
    .alterColumn('email_canonical', (c) => c.setNotNull())
    .execute()
  await db.schema
    .alterTable('users')
    .addCheckConstraint(
      'users_email_canonical_length',
      sql`char_length(email_canonical) <= ${sql.lit(EMAIL_CANONICAL_MAX)}`,
    )
    .execute()
  await db.schema.dropIndex('users_email_lower_key').execute()
  await db.schema
    .createIndex('users_email_canonical_key')
    .on('users')
    .column('email_canonical')
    .unique()
    .execute()

  // eraseExpiredSuccessors: only rows still holding a sealed successor, a handful at
  // any moment (those rotated within the grace window, plus what the job has not reached).
  await db.schema
    .createIndex('sessions_successor_sealed_rotated_at_idx')
    .on('sessions')
    .column('rotated_at')
    .where(sql.ref('successor_sealed'), 'is not', null)
    .execute()
  // pruneRefreshChains ranks each session's chain by issue time; this index also serves
  // every look-up by session_id (the cascade on delete), so it replaces the old one.
  await db.schema
    .createIndex('refresh_tokens_session_id_issued_at_idx')
    .on('refresh_tokens')
    .columns(['session_id', 'issued_at'])
    .execute()
  await db.schema.dropIndex('refresh_tokens_session_id_idx').execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex('refresh_tokens_session_id_idx')
    .on('refresh_tokens')
    .column('session_id')
    .execute()
  await db.schema.dropIndex('refresh_tokens_session_id_issued_at_idx').execute()
  await db.schema.dropIndex('sessions_successor_sealed_rotated_at_idx').execute()
  await db.schema.dropIndex('users_email_canonical_key').execute()
  await db.schema
    .createIndex('users_email_lower_key')
    .on('users')
    .unique()
    .expression(sql`lower(email)`)
    .execute()
  await db.schema.alterTable('users').dropColumn('email_canonical').execute()
}
