import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's types
type AnyDb = Kysely<any>

// SPEC §2: a database dump must not hold a usable signing key. Private keys are stored
// sealed (AES-256-GCM) under a key-encryption secret that never enters the database,
// so this migration cannot encrypt the rows it finds: the server seals each row that
// still holds a plaintext `private_jwk` when it starts, and clears the plaintext in the
// same statement. New rows are written sealed only.
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('signing_keys')
    .addColumn('sealed_private_key', 'text', (c) =>
      c.check(sql`char_length(sealed_private_key) <= 4096`),
    )
    .execute()
  // One form at most: sealing a row and keeping its plaintext would defeat the point.
  await db.schema
    .alterTable('signing_keys')
    .addCheckConstraint(
      'signing_keys_private_key_in_one_form',
      sql`private_jwk is null or sealed_private_key is null`,
    )
    .execute()
}

// Sealed keys cannot be unsealed here (no secret): going down drops them, and the
// server generates new keys on its next start.
export async function down(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('signing_keys')
    .dropConstraint('signing_keys_private_key_in_one_form')
    .execute()
  await db.schema.alterTable('signing_keys').dropColumn('sealed_private_key').execute()
}
