import t from 'tap'
import {
  createUser,
  DatabaseError,
  findUserByEmail,
  findUserById,
  updatePasswordHash,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { newUser } from './helpers.js'

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
})
