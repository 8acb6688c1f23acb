import { sql } from 'kysely'
import t from 'tap'
import {
  canonicalEmail,
  changeUserEmail,
  createSession,
  createUser,
  DatabaseError,
  deleteUser,
  EmailTaken,
  findUserByEmail,
  findUserById,
  issueOneTimeToken,
  MigrationFailed,
  migrateToLatest,
  updatePasswordHash,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { fakeHash, migratorFor, newUser } from './helpers.js'

// SQL metacharacters and friends, for every text field.
const NASTY = [
  "o'brien'; drop table users; --",
  'back\\slash "double" `tick`',
  '$1 $$ %_ * ? \\x00',
  'ünïcödé ☃ 𝄞 ﷽',
  '\r\n\t',
]

forEachDialect(t, async (t, { db }) => {
  t.test('create and find by email (any case) and id', async (t) => {
    const user = await createUser(db, {
      email: 'Grace.Hopper@Example.COM',
      passwordHash: 'hash-1',
      displayName: 'Grace',
    })
    t.equal(user.email, 'Grace.Hopper@Example.COM')
    t.equal(user.emailCanonical, 'grace.hopper@example.com')
    t.equal(user.tokenVersion, 0)
    t.equal(user.displayName, 'Grace')
    t.ok(user.createdAt instanceof Date)
    t.same((await findUserByEmail(db, 'grace.hopper@example.com'))?.id, user.id)
    t.same((await findUserByEmail(db, 'GRACE.HOPPER@EXAMPLE.COM'))?.id, user.id)
    t.same((await findUserById(db, user.id))?.email, user.email)
    t.equal(await findUserByEmail(db, 'nobody@example.com'), undefined)
    t.equal(await findUserById(db, crypto.randomUUID()), undefined)
    t.equal(await findUserById(db, 'not-a-uuid'), undefined, 'a non-UUID id finds nothing')
  })

  t.test('duplicate email, in another case, is EMAIL_TAKEN', async (t) => {
    await createUser(db, { email: 'dup@example.com', passwordHash: 'h' })
    const error = await createUser(db, { email: 'DUP@Example.com', passwordHash: 'h' }).catch(
      (e: unknown) => e,
    )
    t.type(error, DatabaseError)
    t.equal((error as DatabaseError).code, 'EMAIL_TAKEN')
    t.notMatch((error as Error).message, /DUP@Example/, 'the message does not echo the email')
  })

  t.test('two concurrent sign-ups with one email: exactly one wins', async (t) => {
    const results = await Promise.allSettled([
      createUser(db, { email: 'race@example.com', passwordHash: 'h' }),
      createUser(db, { email: 'RACE@example.com', passwordHash: 'h' }),
    ])
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    const rejected = results.find((r) => r.status === 'rejected')
    t.equal((rejected?.reason as DatabaseError | undefined)?.code, 'EMAIL_TAKEN')
  })

  t.test('password update bumps the token version', async (t) => {
    const user = await newUser(db)
    const later = new Date(Date.now() + 60_000)
    const updated = await updatePasswordHash(db, {
      userId: user.id,
      passwordHash: 'new-hash',
      now: later,
    })
    t.equal(updated?.passwordHash, 'new-hash')
    t.equal(updated?.tokenVersion, 1)
    t.same(updated?.updatedAt, later)
    t.equal((await updatePasswordHash(db, { userId: user.id, passwordHash: 'x' }))?.tokenVersion, 2)
    t.equal(
      await updatePasswordHash(db, { userId: crypto.randomUUID(), passwordHash: 'x' }),
      undefined,
    )
  })

  t.test('an email change moves the address (verified) and frees the old one', async (t) => {
    const user = await newUser(db)
    const other = await newUser(db)
    const at = new Date(Date.now() + 60_000)
    const moved = await changeUserEmail(db, {
      userId: user.id,
      email: 'Moved@Example.com',
      now: at,
    })
    t.equal(moved?.email, 'Moved@Example.com')
    t.equal(moved?.emailCanonical, 'moved@example.com')
    t.same(moved?.emailVerifiedAt, at, 'proved by the link: verified')
    t.equal((await findUserByEmail(db, 'MOVED@example.com'))?.id, user.id)
    t.equal(await findUserByEmail(db, user.email), undefined, 'the old address finds nothing')
    const clash = await changeUserEmail(db, {
      userId: other.id,
      email: 'ｍｏｖｅｄ@example.com',
    }).catch((error: unknown) => error)
    t.equal((clash as DatabaseError).code, 'EMAIL_TAKEN', 'a canonical clash is EMAIL_TAKEN')
    t.equal((await findUserById(db, other.id))?.email, other.email, 'and changes nothing')
    t.equal(await changeUserEmail(db, { userId: 'nope', email: 'x@example.com' }), undefined)
    t.equal(
      await changeUserEmail(db, { userId: crypto.randomUUID(), email: 'y@example.com' }),
      undefined,
    )
  })

  t.test('deleting a user takes its sessions and one-time tokens along', async (t) => {
    const user = await newUser(db)
    await createSession(db, {
      userId: user.id,
      refreshTokenHash: fakeHash(),
      idleTtlSeconds: 60,
      maxAgeSeconds: 120,
    })
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'verify_email',
      tokenHash: fakeHash(),
      ttlSeconds: 60,
    })
    t.equal(await deleteUser(db, user.id), true)
    t.equal(await findUserById(db, user.id), undefined)
    const sessions = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .execute()
    const tokens = await db
      .selectFrom('one_time_tokens')
      .select('id')
      .where('user_id', '=', user.id)
      .execute()
    t.same([sessions.length, tokens.length], [0, 0])
    t.equal(await deleteUser(db, user.id), false, 'gone already')
    t.equal(await deleteUser(db, 'not-a-uuid'), false)
    t.ok(await createUser(db, { email: user.email, passwordHash: 'h' }), 'the address is free')
  })

  t.test('SQL metacharacters round-trip in every text field', async (t) => {
    for (const [i, nasty] of NASTY.entries()) {
      const email = `${nasty}${i}@example.com`
      const user = await createUser(db, { email, passwordHash: nasty, displayName: nasty })
      const found = await findUserByEmail(db, email)
      t.equal(found?.email, email)
      t.equal(found?.passwordHash, nasty)
      t.equal(found?.displayName, nasty)
      t.equal(found?.id, user.id)
    }
    t.equal(await findUserByEmail(db, "' or '1'='1"), undefined)
    t.equal(await findUserByEmail(db, '%'), undefined, 'no LIKE semantics')
  })

  t.test('over-long and unstorable values are DB_INVALID_INPUT', async (t) => {
    const long = `${'a'.repeat(400)}@example.com`
    const tooLong = await createUser(db, { email: long, passwordHash: 'h' }).catch((e) => e)
    t.equal((tooLong as DatabaseError).code, 'DB_INVALID_INPUT')
    const longName = await createUser(db, {
      email: 'longname@example.com',
      passwordHash: 'h',
      displayName: 'x'.repeat(201),
    }).catch((e) => e)
    t.equal((longName as DatabaseError).code, 'DB_INVALID_INPUT')
    const nul = await createUser(db, { email: 'nul\u0000@example.com', passwordHash: 'h' }).catch(
      (e) => e,
    )
    t.equal((nul as DatabaseError).code, 'DB_INVALID_INPUT')
    t.equal(await findUserByEmail(db, 'nul\u0000@example.com'), undefined, 'lookup finds nothing')
    t.equal(await findUserByEmail(db, 'x'.repeat(100_000)), undefined)
  })

  t.test(
    'one canonical email: fullwidth, case, İ and spacing variants are one account',
    async (t) => {
      const ada = await createUser(db, { email: 'Ada@Example.com', passwordHash: 'h' })
      t.equal(ada.email, 'Ada@Example.com', 'the address as typed is kept for display')
      for (const variant of [
        'ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ',
        'ａｄａ@example.com',
        'ADA@EXAMPLE.COM',
        '  ada@example.com\t',
        'ada@example.com\u3000',
      ]) {
        t.equal(
          (await findUserByEmail(db, variant))?.id,
          ada.id,
          `found by ${JSON.stringify(variant)}`,
        )
        const taken = await createUser(db, { email: variant, passwordHash: 'h' }).catch((e) => e)
        t.type(taken, EmailTaken, `EMAIL_TAKEN for ${JSON.stringify(variant)}`)
        t.equal((taken as DatabaseError).code, 'EMAIL_TAKEN')
      }

      // U+0130 'İ': NFKC keeps it, toLowerCase makes it 'i' + U+0307; one account with 'i'.
      const inci = await createUser(db, { email: 'inci@example.com', passwordHash: 'h' })
      for (const variant of ['İNCİ@example.com', 'İnci@example.com', 'I\u0307nci@example.com']) {
        t.equal(
          (await findUserByEmail(db, variant))?.id,
          inci.id,
          `found by ${JSON.stringify(variant)}`,
        )
        const taken = await createUser(db, { email: variant, passwordHash: 'h' }).catch((e) => e)
        t.equal((taken as DatabaseError).code, 'EMAIL_TAKEN', `EMAIL_TAKEN for ${variant}`)
      }
      // The other way round: an account registered with 'İ' is found by 'i'.
      const sigma = await createUser(db, { email: 'İΣ@example.gr', passwordHash: 'h' })
      t.equal((await findUserByEmail(db, 'iσ@example.gr'))?.id, sigma.id)
      t.equal((await findUserByEmail(db, 'iς@example.gr'))?.id, sigma.id, 'final sigma too')
      t.equal(
        await findUserByEmail(db, 'ınci@example.com'),
        undefined,
        'dotless ı is another letter, not folded',
      )
    },
  )

  t.test('concurrent sign-ups with two spellings of one address: one wins', async (t) => {
    const results = await Promise.allSettled([
      createUser(db, { email: 'ｒａｃｅ２@example.com', passwordHash: 'h' }),
      createUser(db, { email: 'Race2@Example.com', passwordHash: 'h' }),
    ])
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    const rejected = results.find((r) => r.status === 'rejected')
    t.equal((rejected?.reason as DatabaseError | undefined)?.code, 'EMAIL_TAKEN')
  })
})

t.test('canonicalEmail: the rule, and a fixed point', async (t) => {
  const cases: [string, string][] = [
    ['ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ada@example.com'],
    [' Ada@Example.COM ', 'ada@example.com'],
    ['İNCİ@example.com', 'inci@example.com'],
    ['I\u0307nci@example.com', 'inci@example.com'],
    ['ΑΣ@example.gr', 'ασ@example.gr'],
    ['ﬁ@ℌ.example', 'fi@h.example'],
    ['ınci@example.com', 'ınci@example.com'],
    ['straße@example.de', 'straße@example.de'],
  ]
  for (const [input, expected] of cases) {
    const canonical = canonicalEmail(input)
    t.equal(canonical, expected, JSON.stringify(input))
    t.equal(canonicalEmail(canonical), canonical, `idempotent on ${JSON.stringify(input)}`)
  }
})

// The migration's backfill must agree with canonicalEmail, or existing accounts become
// unfindable; and it must refuse, not merge, accounts that now collide.
forEachDialect(
  t,
  async (t, { db, schema }) => {
    const migrator = migratorFor(db, schema)
    const { error } = await migrator.migrateTo('2026_11_25_000005_create_rate_limits')
    t.equal(error, undefined, 'migrated to the schema before canonical emails')
    const emails = [
      'plain@example.com',
      'Mixed.Case@Example.COM',
      'ＦＵＬＬ＠ｅｘａｍｐｌｅ．ｃｏｍ',
      'İNCİ@example.com',
      '  padded@example.com ',
      'ΑΣ@example.gr',
    ]
    const insert = (email: string) =>
      sql`insert into breakwater.users (id, email, password_hash, created_at, updated_at)
        values (${crypto.randomUUID()}, ${email}, 'h', now(), now())`.execute(db)
    for (const email of emails) await insert(email)

    // Two accounts the old lower(email) index allowed, one canonical form.
    await insert('twin@example.com')
    await insert('ＴＷＩＮ@example.com')
    const refused = await migrateToLatest(db).catch((e: unknown) => e)
    t.type(refused, MigrationFailed)
    t.equal((refused as MigrationFailed).migration, '2026_12_01_000007_canonical_emails')
    t.notMatch(String((refused as Error & { cause?: Error }).cause?.message), /twin/i)
    const { rows: columns } = await sql<{ n: number }>`select count(*)::int as n
      from information_schema.columns
      where table_schema = 'breakwater' and table_name = 'users'
        and column_name = 'email_canonical'`.execute(db)
    t.equal(columns[0]?.n, 0, 'rolled back: the schema is as it was')

    await sql`delete from breakwater.users where email = ${'ＴＷＩＮ@example.com'}`.execute(db)
    const { applied } = await migrateToLatest(db)
    t.ok(applied.includes('2026_12_01_000007_canonical_emails'))
    const { rows } = await sql<{
      email: string
      email_canonical: string
    }>`select email, email_canonical from breakwater.users`.execute(db)
    t.equal(rows.length, emails.length + 1)
    for (const row of rows) {
      t.equal(row.email_canonical, canonicalEmail(row.email), `backfilled ${row.email}`)
    }
    t.equal(
      (await findUserByEmail(db, 'full@example.com'))?.email,
      'ＦＵＬＬ＠ｅｘａｍｐｌｅ．ｃｏｍ',
    )
    t.equal((await findUserByEmail(db, 'inci@EXAMPLE.com'))?.email, 'İNCİ@example.com')
    const taken = await createUser(db, { email: 'Twin@Example.com', passwordHash: 'h' }).catch(
      (e) => e,
    )
    t.equal(
      (taken as DatabaseError).code,
      'EMAIL_TAKEN',
      'the new unique index maps to EMAIL_TAKEN',
    )
    const { rows: indexes } = await sql<{ indexname: string }>`select indexname from pg_indexes
      where schemaname = 'breakwater' and tablename = 'users' order by indexname`.execute(db)
    t.same(
      indexes.map((i) => i.indexname),
      ['users_email_canonical_key', 'users_pkey'],
      'the lower(email) index is gone',
    )
  },
  { migrate: false },
)
