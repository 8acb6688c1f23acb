import { sql } from 'kysely'
import t from 'tap'
import {
  activateSigningKey,
  type Executor,
  insertSigningKey,
  listSigningKeys,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'

const publicJwk = (kid: string) => ({ kty: 'OKP', crv: 'Ed25519', kid, x: `x-${kid}` })
const PLAINTEXT_D = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A'

/** Every row of every table in every non-system schema, as text: what a dump shows. */
async function dumpEverySchema(db: Executor): Promise<string> {
  const { rows: tables } = await sql<{ table_schema: string; table_name: string }>`
    select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
    order by table_schema, table_name`.execute(db)
  const parts: string[] = []
  for (const { table_schema, table_name } of tables) {
    const { rows } = await sql`select * from ${sql.table(`${table_schema}.${table_name}`)}`.execute(
      db,
    )
    parts.push(`${table_schema}.${table_name}: ${JSON.stringify(rows)}`)
  }
  return parts.join('\n')
}

forEachDialect(t, async (t, { db }) => {
  t.test('a new key is stored sealed only: private_jwk stays null', async (t) => {
    const key = await insertSigningKey(db, {
      kid: 'k1',
      alg: 'EdDSA',
      publicJwk: publicJwk('k1'),
      sealedPrivateKey: 'v1.kekid123.aXY.Y2lwaGVydGV4dA',
      state: 'active',
    })
    t.equal(key.sealedPrivateKey, 'v1.kekid123.aXY.Y2lwaGVydGV4dA')
    t.equal(key.privateJwk, null)
    const [listed] = await listSigningKeys(db)
    t.equal(listed?.sealedPrivateKey, key.sealedPrivateKey)
    t.same(listed?.publicJwk, publicJwk('k1'), 'the public JWK stays in clear')
    await t.rejects(
      insertSigningKey(db, {
        kid: 'k2',
        alg: 'EdDSA',
        publicJwk: publicJwk('k2'),
        privateJwk: { d: PLAINTEXT_D },
      } as never),
      { name: 'TypeError', message: /sealed only/ },
      'a plaintext private key is refused before it reaches the database',
    )
    t.notMatch(await dumpEverySchema(db), PLAINTEXT_D)
  })

  t.test('a row cannot hold its private key both sealed and in clear', async (t) => {
    await insertSigningKey(db, {
      kid: 'both',
      alg: 'EdDSA',
      publicJwk: publicJwk('both'),
      sealedPrivateKey: 'v1.kekid123.aXY.Ym90aA',
    })
    const error = await db
      .updateTable('signing_keys')
      .set({ private_jwk: JSON.stringify({ d: PLAINTEXT_D }) } as never)
      .where('kid', '=', 'both')
      .execute()
      .catch((e: unknown) => e)
    t.ok(error instanceof Error, 'refused by signing_keys_private_key_in_one_form')
    t.equal((await listSigningKeys(db)).find((k) => k.kid === 'both')?.privateJwk, null)
  })

  t.test('a legacy plaintext row is kept until the server seals it, then cleared', async (t) => {
    // A row as written before migration 000006 (the column it added is null on old rows).
    await db
      .insertInto('signing_keys')
      .values({
        kid: 'legacy',
        alg: 'EdDSA',
        state: 'pending',
        public_jwk: JSON.stringify(publicJwk('legacy')),
        private_jwk: JSON.stringify({ ...publicJwk('legacy'), d: PLAINTEXT_D }),
        created_at: new Date(),
      } as never)
      .execute()
    const legacy = (await listSigningKeys(db)).find((k) => k.kid === 'legacy')
    t.equal(legacy?.sealedPrivateKey, null, 'nothing sealed: the secret is not in the database')
    t.equal(legacy?.privateJwk?.d, PLAINTEXT_D)
    // What the server's keyring does on start: seal and clear in one statement.
    await db
      .updateTable('signing_keys')
      .set({ sealed_private_key: 'v1.kekid123.aXY.bGVnYWN5', private_jwk: null })
      .where('kid', '=', 'legacy')
      .where('sealed_private_key', 'is', null)
      .execute()
    const sealed = (await listSigningKeys(db)).find((k) => k.kid === 'legacy')
    t.equal(sealed?.privateJwk, null)
    t.equal(sealed?.sealedPrivateKey, 'v1.kekid123.aXY.bGVnYWN5')
    t.notMatch(await dumpEverySchema(db), PLAINTEXT_D)
    t.ok(
      await activateSigningKey(db, { kid: 'legacy', previousPublishUntil: new Date() }),
      'a sealed row rotates like any other',
    )
  })
})
