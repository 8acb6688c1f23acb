// SPEC §9: one-time tokens (verification, reset, email change, sign-in codes), stored
// only as the server's keyed hashes; single use; one live token per user and purpose.
import { createHash } from 'node:crypto'
import t from 'tap'
import {
  checkOneTimeCode,
  consumeOneTimeToken,
  createUser,
  findUserById,
  issueOneTimeToken,
  markEmailVerified,
  pruneOneTimeTokens,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'

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
