import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

const PURPOSES = ['verify_email', 'reset_password', 'change_email', 'sign_in_code']

function purposeCheck(purposes: readonly string[]) {
  return sql`purpose in (${sql.join(purposes.map((p) => sql.lit(p)))})`
}

/**
 * SPEC §10: a TOTP second factor (its seed sealed under the server's secret, the last
 * step used, so a code is never accepted twice), 10 recovery codes per user stored as
 * keyed digests, login challenges as one-time tokens, and a session's `auth_time` and
 * `amr` for step-up. Existing sessions keep `null`: they count as signed in by password
 * at their creation.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('auth_time', 'timestamptz')
    .addColumn('amr', 'jsonb')
    .execute()
  await db.schema
    .alterTable('sessions')
    .addCheckConstraint(
      'sessions_amr_array',
      sql`amr is null or (jsonb_typeof(amr) = 'array' and octet_length(amr::text) <= 512)`,
    )
    .execute()
  await db.schema
    .alterTable('users')
    .addColumn('totp_sealed', 'text', (c) => c.check(sql`char_length(totp_sealed) <= 512`))
    .addColumn('totp_enabled_at', 'timestamptz')
    .addColumn('totp_last_step', 'integer')
    .execute()
  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) =>
      c.notNull().check(sql`char_length(code_hash) between 16 and 128`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('recovery_codes_user_hash_key')
    .on('recovery_codes')
    .columns(['user_id', 'code_hash'])
    .unique()
    .execute()
  await db.schema
    .alterTable('one_time_tokens')
    .dropConstraint('one_time_tokens_purpose_check')
    .execute()
  await db.schema
    .alterTable('one_time_tokens')
    .addCheckConstraint(
      'one_time_tokens_purpose_check',
      purposeCheck([...PURPOSES, 'mfa_challenge']),
    )
    .execute()
}

export async function down(db: AnyDb): Promise<void> {
  await db.deleteFrom('one_time_tokens').where('purpose', '=', 'mfa_challenge').execute()
  await db.schema
    .alterTable('one_time_tokens')
    .dropConstraint('one_time_tokens_purpose_check')
    .execute()
  await db.schema
    .alterTable('one_time_tokens')
    .addCheckConstraint('one_time_tokens_purpose_check', purposeCheck(PURPOSES))
    .execute()
  await db.schema.dropTable('recovery_codes').execute()
  await db.schema
    .alterTable('users')
    .dropColumn('totp_sealed')
    .dropColumn('totp_enabled_at')
    .dropColumn('totp_last_step')
    .execute()
  await db.schema.alterTable('sessions').dropColumn('auth_time').dropColumn('amr').execute()
}
