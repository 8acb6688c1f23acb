// SPEC §8: a team's extra user fields, one JSON object per user (migration 000008).
import { sql } from 'kysely'
import t from 'tap'
import {
  createUser,
  findUserByEmail,
  findUserById,
  InvalidInput,
  migrateToLatest,
  updateUserFields,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { migratorFor } from './helpers.js'

const NESTED = {
  plan: 'pro',
  seats: 12,
  beta: true,
  nothing: null,
  tags: ['a', 'b', { deep: [1, 2.5, -3] }],
  address: { city: 'Zürich', lines: ['Bahnhofstr. 1', ''], geo: { lat: 47.37, lng: 8.54 } },
  emoji: '🌊',
}

forEachDialect(t, async (t, { db }) => {
  t.test('fields round-trip nested values, {} by default', async (t) => {
    const plain = await createUser(db, { email: 'plain@example.com', passwordHash: 'h' })
    t.same(plain.fields, {})
    const rich = await createUser(db, {
      email: 'rich@example.com',
      passwordHash: 'h',
      fields: NESTED,
    })
    t.same(rich.fields, NESTED, 'as returned by createUser')
    t.same((await findUserById(db, rich.id))?.fields, NESTED, 'as read back')
    t.same((await findUserByEmail(db, 'RICH@example.com'))?.fields, NESTED)
  })

  t.test('updateUserFields replaces the object and returns the user', async (t) => {
    const user = await createUser(db, {
      email: 'update@example.com',
      passwordHash: 'h',
      fields: { plan: 'free', keep: 'gone after replace' },
    })
    const later = new Date(user.updatedAt.getTime() + 60_000)
    const updated = await updateUserFields(db, user.id, { plan: 'pro', nested: { n: 1 } }, later)
    t.same(updated?.fields, { plan: 'pro', nested: { n: 1 } })
    t.equal(updated?.updatedAt.getTime(), later.getTime())
    t.equal(updated?.tokenVersion, user.tokenVersion, 'nothing else changes')
    t.same((await findUserById(db, user.id))?.fields, { plan: 'pro', nested: { n: 1 } })
    t.equal(await updateUserFields(db, crypto.randomUUID(), {}), undefined, 'no such user')
    t.equal(await updateUserFields(db, 'not-a-uuid', {}), undefined)
  })

  t.test('only a JSON object, of bounded size', async (t) => {
    for (const fields of [[1, 2], 'text', 42]) {
      await t.rejects(
        createUser(db, {
          email: `bad${typeof fields}@example.com`,
          passwordHash: 'h',
          fields: fields as never,
        }),
        TypeError,
        JSON.stringify(fields),
      )
    }
    await t.rejects(updateUserFields(db, crypto.randomUUID(), null as never), TypeError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await t.rejects(
      createUser(db, { email: 'cyc@example.com', passwordHash: 'h', fields: cyclic }),
      TypeError,
    )
    const huge = await createUser(db, {
      email: 'huge@example.com',
      passwordHash: 'h',
      fields: { blob: 'x'.repeat(70_000) },
    }).catch((e: unknown) => e)
    t.type(huge, InvalidInput, 'over 64 KiB is refused by the schema')
    t.equal(await findUserByEmail(db, 'huge@example.com'), undefined)
  })
})

forEachDialect(
  t,
  async (t, { db, schema }) => {
    const migrator = migratorFor(db, schema)
    t.equal((await migrator.migrateTo('2026_12_01_000007_canonical_emails')).error, undefined)
    const id = crypto.randomUUID()
    await sql`insert into ${sql.id(schema, 'users')}
      (id, email, email_canonical, password_hash, created_at, updated_at)
      values (${id}, 'old@example.com', 'old@example.com', 'h', now(), now())`.execute(db)
    t.same((await migrateToLatest(db)).applied, [
      '2026_12_01_000008_user_fields',
      '2026_12_01_000009_one_time_tokens',
      '2026_12_01_000010_strong_auth',
      '2026_12_01_000011_passkeys',
      '2026_12_01_000012_one_token_per_purpose',
    ])
    t.same((await findUserById(db, id))?.fields, {}, 'a user from before the migration has {}')
  },
  { migrate: false },
)
