// SPEC §9: one-time tokens (verification, reset, email change, sign-in codes), stored
// only as the server's keyed hashes; single use; one live token per user and purpose.
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import {
  checkOneTimeCode,
  consumeOneTimeToken,
  createUser,
  findUserById,
  issueOneTimeToken,
  markEmailVerified,
  migrateToLatest,
  pruneOneTimeTokens,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { migratorFor } from './helpers.js'

const hash = (token: string) => createHash('sha256').update(token).digest('base64url')
const at = (iso: string) => new Date(iso)

forEachDialect(t, async (t, { db }) => {
  let n = 0
  const newUser = () => createUser(db, { email: `ott${++n}@example.com`, passwordHash: 'h' })

  t.test('a token is used once; a newer one voids the older', async (t) => {
    const user = await newUser()
    const now = at('2026-12-01T10:00:00Z')
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'reset_password',
      tokenHash: hash('first'),
      ttlSeconds: 1800,
      now,
    })
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'reset_password',
      tokenHash: hash('second'),
      ttlSeconds: 1800,
      now,
    })
    const consume = (token: string, purpose = 'reset_password' as const) =>
      consumeOneTimeToken(db, { purpose, tokenHash: hash(token), now })
    t.equal(await consume('first'), undefined, 'the older one is void')
    t.equal(
      await consumeOneTimeToken(db, { purpose: 'verify_email', tokenHash: hash('second'), now }),
      undefined,
      'bound to its purpose',
    )
    const used = await consume('second')
    t.equal(used?.userId, user.id)
    t.equal(await consume('second'), undefined, 'single use')
    t.equal(await consume('never issued'), undefined)
    t.equal(
      await consumeOneTimeToken(db, { purpose: 'reset_password', tokenHash: 'a\u0000b', now }),
      undefined,
      'a NUL finds nothing, fails nothing',
    )
  })

  t.test('ten concurrent uses of one token: exactly one wins', async (t) => {
    const user = await newUser()
    const now = at('2026-12-01T10:00:00Z')
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'verify_email',
      tokenHash: hash('race'),
      ttlSeconds: 60,
      now,
    })
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        consumeOneTimeToken(db, { purpose: 'verify_email', tokenHash: hash('race'), now }),
      ),
    )
    t.equal(results.filter(Boolean).length, 1)
  })

  t.test(
    'ten concurrent issues for one user and purpose: one row, one working token',
    async (t) => {
      const user = await newUser()
      const now = at('2026-12-01T10:00:00Z')
      const tokens = Array.from({ length: 10 }, (_, i) => `concurrent ${i}`)
      await Promise.all(
        tokens.map((token) =>
          issueOneTimeToken(db, {
            userId: user.id,
            purpose: 'reset_password',
            tokenHash: hash(token),
            ttlSeconds: 1800,
            now,
          }),
        ),
      )
      const rows = await db
        .selectFrom('one_time_tokens')
        .select(['token_hash', 'attempts', 'used_at'])
        .where('user_id', '=', user.id)
        .where('purpose', '=', 'reset_password')
        .execute()
      t.equal(rows.length, 1, 'one row for the user and purpose')
      const uses = []
      for (const token of tokens)
        uses.push(
          await consumeOneTimeToken(db, { purpose: 'reset_password', tokenHash: hash(token), now }),
        )
      t.equal(uses.filter(Boolean).length, 1, 'exactly one of the ten tokens works')
      t.equal(
        rows[0]?.token_hash,
        hash(tokens[uses.findIndex(Boolean)] as string),
        'the one stored',
      )
    },
  )

  t.test('a reissue replaces a used, attempted token in place: fresh, unused', async (t) => {
    const user = await newUser()
    const now = at('2026-12-01T10:00:00Z')
    const issue = (code: string, ttlSeconds: number, when: Date) =>
      issueOneTimeToken(db, {
        userId: user.id,
        purpose: 'sign_in_code',
        tokenHash: hash(code),
        ttlSeconds,
        now: when,
      })
    const check = (code: string, when: Date) =>
      checkOneTimeCode(db, {
        userId: user.id,
        purpose: 'sign_in_code',
        tokenHash: hash(code),
        maxAttempts: 2,
        now: when,
      })
    await issue('111111', 600, now)
    t.equal((await check('000000', now)).matched, false)
    t.equal((await check('111111', now)).matched, true, 'used on the second attempt')
    const later = new Date(now.getTime() + 60_000)
    await issue('222222', 60, later)
    const row = await db
      .selectFrom('one_time_tokens')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow()
    t.same(
      { attempts: row.attempts, usedAt: row.used_at, createdAt: row.created_at },
      { attempts: 0, usedAt: null, createdAt: later },
      'attempts and use are reset, the issue time is the new one',
    )
    t.same(row.expires_at, new Date(later.getTime() + 60_000), 'with its own lifetime')
    t.equal((await check('000000', later)).matched, false)
    t.equal((await check('222222', later)).matched, true, 'two attempts again')
  })

  t.test('expiry by the given clock; the new address rides along', async (t) => {
    const user = await newUser()
    const issued = at('2026-12-01T10:00:00Z')
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'change_email',
      tokenHash: hash('change'),
      ttlSeconds: 1800,
      data: { newEmail: 'new@example.com' },
      now: issued,
    })
    const late = new Date(issued.getTime() + 1800 * 1000)
    t.equal(
      await consumeOneTimeToken(db, {
        purpose: 'change_email',
        tokenHash: hash('change'),
        now: late,
      }),
      undefined,
      'expired at its expiry',
    )
    const inTime = new Date(late.getTime() - 1000)
    const used = await consumeOneTimeToken(db, {
      purpose: 'change_email',
      tokenHash: hash('change'),
      now: inTime,
    })
    t.same(used?.data, { newEmail: 'new@example.com' })
  })

  t.test('codes: a burst of guesses checks at most maxAttempts', async (t) => {
    const user = await newUser()
    const now = at('2026-12-01T10:00:00Z')
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('123456'),
      ttlSeconds: 600,
      now,
    })
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        checkOneTimeCode(db, {
          userId: user.id,
          purpose: 'sign_in_code',
          tokenHash: hash(String(100000 + i)),
          maxAttempts: 5,
          now,
        }),
      ),
    )
    t.equal(guesses.filter((g) => g.matched).length, 0)
    const right = await checkOneTimeCode(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('123456'),
      maxAttempts: 5,
      now,
    })
    t.equal(right.matched, false, 'the right code after the attempts are spent: refused')

    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('654321'),
      ttlSeconds: 600,
      now,
    })
    const wrong = await checkOneTimeCode(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('000000'),
      maxAttempts: 5,
      now,
    })
    t.equal(wrong.matched, false)
    const ok = await checkOneTimeCode(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('654321'),
      maxAttempts: 5,
      now,
    })
    t.equal(ok.matched, true, 'a fresh code, within its attempts')
    const again = await checkOneTimeCode(db, {
      userId: user.id,
      purpose: 'sign_in_code',
      tokenHash: hash('654321'),
      maxAttempts: 5,
      now,
    })
    t.equal(again.matched, false, 'and used once')
  })

  t.test('verification, pruning, and tokens go with their user', async (t) => {
    const user = await newUser()
    t.equal(user.emailVerifiedAt, null)
    const now = at('2026-12-01T10:00:00Z')
    t.ok(await markEmailVerified(db, user.id, now))
    t.same((await findUserById(db, user.id))?.emailVerifiedAt, now)
    t.notOk(await markEmailVerified(db, 'not-a-uuid', now))

    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'verify_email',
      tokenHash: hash('old'),
      ttlSeconds: 1,
      now,
    })
    t.ok((await pruneOneTimeTokens(db, new Date(now.getTime() + 5000))) >= 1, 'expired: pruned')
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'verify_email',
      tokenHash: hash('kept'),
      ttlSeconds: 60,
      now,
    })
    await db.deleteFrom('users').where('id', '=', user.id).execute()
    const left = await db
      .selectFrom('one_time_tokens')
      .select('id')
      .where('user_id', '=', user.id)
      .execute()
    t.same(left, [], 'deleting the user deletes its tokens')
  })
})

forEachDialect(
  t,
  async (t, { db, schema }) => {
    const migrator = migratorFor(db, schema)
    t.equal((await migrator.migrateTo('2026_12_01_000011_passkeys')).error, undefined)
    const user = await createUser(db, { email: 'raced@example.com', passwordHash: 'h' })
    // What two concurrent issues could leave before the unique index: two live resets.
    const row = (purpose: string, token: string, minute: number) => sql`
      insert into ${sql.id(schema, 'one_time_tokens')}
        (id, user_id, purpose, token_hash, created_at, expires_at)
      values (${crypto.randomUUID()}, ${user.id}, ${purpose}, ${hash(token)},
        ${at(`2026-12-01T10:0${minute}:00Z`)}, ${at('2026-12-01T11:00:00Z')})`
    await row('reset_password', 'oldest', 1).execute(db)
    await row('reset_password', 'newest', 3).execute(db)
    await row('reset_password', 'middle', 2).execute(db)
    await row('verify_email', 'verify', 1).execute(db)
    t.same((await migrateToLatest(db)).applied, ['2026_12_01_000012_one_token_per_purpose'])
    const left = await db
      .selectFrom('one_time_tokens')
      .select(['purpose', 'token_hash'])
      .where('user_id', '=', user.id)
      .orderBy('purpose')
      .execute()
    t.same(
      left,
      [
        { purpose: 'reset_password', token_hash: hash('newest') },
        { purpose: 'verify_email', token_hash: hash('verify') },
      ],
      'the newest of each user and purpose is kept',
    )
    const duplicate = await row('verify_email', 'another', 2)
      .execute(db)
      .catch((e: unknown) => e)
    t.type(duplicate, Error, 'the database refuses a second row for a user and purpose')
  },
  { migrate: false },
)
