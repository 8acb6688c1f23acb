// SPEC §10 passkeys, storage: the per-user limit and credential uniqueness under
// bursts, owner-only rename/remove, the conditional counter update, and WebAuthn
// challenges taken once, for one purpose, before they expire.
import t, { type Test } from 'tap'
import {
  addPasskey,
  deleteUser,
  findPasskeyByCredentialId,
  issueWebAuthnChallenge,
  listPasskeys,
  type NewPasskey,
  type Passkey,
  pruneWebAuthnChallenges,
  recordPasskeyUse,
  removePasskey,
  renamePasskey,
  takeWebAuthnChallenge,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { fakeHash, newUser } from './helpers.js'

const credentialId = () =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

function passkey(userId: string, extra: Partial<NewPasskey> = {}): NewPasskey {
  return {
    userId,
    credentialId: credentialId(),
    publicKey: Buffer.from('a COSE key').toString('base64url'),
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'singleDevice',
    backedUp: false,
    name: 'Laptop',
    maxPerUser: 20,
    ...extra,
  }
}

/** Narrows an addPasskey result to a stored passkey, failing the test otherwise. */
function stored(t: Pick<Test, 'equal'>, result: Awaited<ReturnType<typeof addPasskey>>) {
  t.equal(typeof result, 'object', 'stored')
  if (typeof result !== 'object') throw new Error(`expected a passkey, got ${result}`)
  return result
}

forEachDialect(t, async (t, { db }) => {
  t.test('addPasskey: stored, listed, found; limit, duplicate, no user', async (t) => {
    const user = await newUser(db)
    const at = new Date('2026-12-01T10:00:00Z')
    const first = stored(
      t,
      await addPasskey(db, passkey(user.id, { counter: 7, maxPerUser: 3, now: at })),
    )
    t.match(first, {
      userId: user.id,
      counter: 7,
      transports: ['internal', 'hybrid'],
      deviceType: 'singleDevice',
      backedUp: false,
      name: 'Laptop',
      lastUsedAt: null,
    })
    t.same(first.createdAt, at)
    t.same(await findPasskeyByCredentialId(db, first.credentialId), first, 'found by credential id')
    const synced = stored(
      t,
      await addPasskey(
        db,
        passkey(user.id, {
          deviceType: 'multiDevice',
          backedUp: true,
          name: 'Phone',
          maxPerUser: 3,
        }),
      ),
    )
    stored(t, await addPasskey(db, passkey(user.id, { maxPerUser: 3 })))
    t.equal(await addPasskey(db, passkey(user.id, { maxPerUser: 3 })), 'limit', 'a fourth of 3')
    stored(t, await addPasskey(db, passkey(user.id, { maxPerUser: 4 })))
    t.equal(
      await addPasskey(db, passkey(user.id, { credentialId: first.credentialId, maxPerUser: 9 })),
      'duplicate',
      'the same credential again',
    )
    const other = await newUser(db)
    t.equal(
      await addPasskey(db, passkey(other.id, { credentialId: synced.credentialId })),
      'duplicate',
      'a credential of someone else',
    )
    t.same(await listPasskeys(db, other.id), [], 'which stored nothing for them')
    t.equal(await addPasskey(db, passkey(crypto.randomUUID())), 'no-user')
    t.equal(await addPasskey(db, passkey('not-a-uuid')), 'no-user')
    const listed = await listPasskeys(db, user.id)
    t.equal(listed.length, 4)
    t.same(listed[0], first, 'oldest first')
    t.same(await listPasskeys(db, 'not-a-uuid'), [])
    t.equal(await findPasskeyByCredentialId(db, credentialId()), undefined)
    t.equal(await findPasskeyByCredentialId(db, 'a\u0000b'), undefined, 'NUL: not found, no error')
    t.equal(await findPasskeyByCredentialId(db, 'x'.repeat(1401)), undefined, 'too long')
    await t.rejects(addPasskey(db, passkey(user.id, { maxPerUser: 0 })), TypeError)
    await t.rejects(addPasskey(db, passkey(user.id, { counter: -1 })), TypeError)
  })

  t.test('a burst at the limit stores exactly up to it', async (t) => {
    const user = await newUser(db)
    for (let i = 0; i < 3; i++) stored(t, await addPasskey(db, passkey(user.id, { maxPerUser: 5 })))
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => addPasskey(db, passkey(user.id, { maxPerUser: 5 }))),
    )
    t.equal(burst.filter((r) => typeof r === 'object').length, 2, 'two fit')
    t.equal(burst.filter((r) => r === 'limit').length, 10, 'the rest: limit')
    t.equal((await listPasskeys(db, user.id)).length, 5, 'never more than 5 stored')
  })

  t.test('one credential registered by two users at once: one stores it, no error', async (t) => {
    const [a, b] = await Promise.all([newUser(db), newUser(db)])
    const id = credentialId()
    const results = await Promise.all([
      addPasskey(db, passkey(a.id, { credentialId: id })),
      addPasskey(db, passkey(b.id, { credentialId: id })),
    ])
    t.equal(results.filter((r) => typeof r === 'object').length, 1, 'one stored')
    t.equal(results.filter((r) => r === 'duplicate').length, 1, 'the other: duplicate')
    const holder = (results.find((r) => typeof r === 'object') as Passkey).userId
    t.equal((await findPasskeyByCredentialId(db, id))?.userId, holder)
  })

  t.test("rename and remove: only the owner's", async (t) => {
    const owner = await newUser(db)
    const stranger = await newUser(db)
    const key = stored(t, await addPasskey(db, passkey(owner.id)))
    t.notOk(await renamePasskey(db, { userId: stranger.id, id: key.id, name: 'Mine now' }))
    t.notOk(await renamePasskey(db, { userId: owner.id, id: 'not-a-uuid', name: 'x' }))
    t.notOk(await renamePasskey(db, { userId: 'not-a-uuid', id: key.id, name: 'x' }))
    t.equal((await findPasskeyByCredentialId(db, key.credentialId))?.name, 'Laptop', 'unchanged')
    t.ok(await renamePasskey(db, { userId: owner.id, id: key.id, name: 'Work laptop' }))
    t.equal((await findPasskeyByCredentialId(db, key.credentialId))?.name, 'Work laptop')
    t.equal(await removePasskey(db, { userId: stranger.id, id: key.id }), undefined)
    t.equal(await removePasskey(db, { userId: owner.id, id: 'not-a-uuid' }), undefined)
    t.ok(await findPasskeyByCredentialId(db, key.credentialId), 'still there')
    t.equal((await removePasskey(db, { userId: owner.id, id: key.id }))?.id, key.id)
    t.equal(await findPasskeyByCredentialId(db, key.credentialId), undefined, 'gone')
    t.equal(await removePasskey(db, { userId: owner.id, id: key.id }), undefined, 'once')
  })

  t.test('recordPasskeyUse: conditional on the counter it read', async (t) => {
    const user = await newUser(db)
    const key = stored(t, await addPasskey(db, passkey(user.id)))
    const used = new Date('2026-12-02T08:00:00Z')
    t.ok(
      await recordPasskeyUse(db, {
        id: key.id,
        readCounter: 0,
        counter: 0,
        backedUp: true,
        now: used,
      }),
    )
    const later = new Date(used.getTime() + 60_000)
    t.ok(
      await recordPasskeyUse(db, {
        id: key.id,
        readCounter: 0,
        counter: 0,
        backedUp: true,
        now: later,
      }),
      'a counter that stays 0 records every time',
    )
    const after = await findPasskeyByCredentialId(db, key.credentialId)
    t.equal(after?.backedUp, true, 'the backup state follows')
    t.same(after?.lastUsedAt, later, 'last used')
    t.ok(await recordPasskeyUse(db, { id: key.id, readCounter: 0, counter: 5, backedUp: true }))
    t.notOk(
      await recordPasskeyUse(db, { id: key.id, readCounter: 0, counter: 6, backedUp: true }),
      'read before the last use: not recorded',
    )
    t.notOk(
      await recordPasskeyUse(db, { id: key.id, readCounter: 0, counter: 0, backedUp: true }),
      'nor back to 0',
    )
    t.equal((await findPasskeyByCredentialId(db, key.credentialId))?.counter, 5)
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        recordPasskeyUse(db, { id: key.id, readCounter: 5, counter: 6 + i, backedUp: false }),
      ),
    )
    t.equal(burst.filter(Boolean).length, 1, 'eight uses read at 5: one recorded')
    t.notOk(
      await recordPasskeyUse(db, {
        id: crypto.randomUUID(),
        readCounter: 0,
        counter: 1,
        backedUp: false,
      }),
      'an unknown passkey',
    )
    await t.rejects(
      recordPasskeyUse(db, { id: key.id, readCounter: 0, counter: -1, backedUp: false }),
      TypeError,
    )
  })

  t.test('challenges: once, for their purpose, before they expire', async (t) => {
    const user = await newUser(db)
    const hash = fakeHash()
    await issueWebAuthnChallenge(db, {
      challengeHash: hash,
      purpose: 'register',
      userId: user.id,
      ttlSeconds: 300,
    })
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: hash, purpose: 'sign_in' }),
      undefined,
      'not for another ceremony',
    )
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: hash, purpose: 'reauthenticate' }),
      undefined,
    )
    t.same(await takeWebAuthnChallenge(db, { challengeHash: hash, purpose: 'register' }), {
      userId: user.id,
    })
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: hash, purpose: 'register' }),
      undefined,
      'taken once',
    )

    const signIn = fakeHash()
    await issueWebAuthnChallenge(db, {
      challengeHash: signIn,
      purpose: 'sign_in',
      userId: null,
      ttlSeconds: 300,
    })
    const takes = await Promise.all(
      Array.from({ length: 10 }, () =>
        takeWebAuthnChallenge(db, { challengeHash: signIn, purpose: 'sign_in' }),
      ),
    )
    t.equal(takes.filter((taken) => taken !== undefined).length, 1, 'ten takes at once: one')
    t.same(
      takes.find((taken) => taken !== undefined),
      { userId: null },
      'a sign-in has no user yet',
    )

    const issuedAt = new Date('2026-12-01T12:00:00Z')
    const short = fakeHash()
    await issueWebAuthnChallenge(db, {
      challengeHash: short,
      purpose: 'second_factor',
      userId: user.id,
      ttlSeconds: 300,
      now: issuedAt,
    })
    t.equal(
      await takeWebAuthnChallenge(db, {
        challengeHash: short,
        purpose: 'second_factor',
        now: new Date(issuedAt.getTime() + 300_000),
      }),
      undefined,
      'expired at its lifetime',
    )
    t.same(
      await takeWebAuthnChallenge(db, {
        challengeHash: short,
        purpose: 'second_factor',
        now: new Date(issuedAt.getTime() + 299_000),
      }),
      { userId: user.id },
      'alive a second before',
    )
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: 'a\u0000b', purpose: 'sign_in' }),
      undefined,
    )
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: 'x'.repeat(129), purpose: 'sign_in' }),
      undefined,
    )
    await t.rejects(
      issueWebAuthnChallenge(db, {
        challengeHash: fakeHash(),
        purpose: 'sign_in',
        userId: null,
        ttlSeconds: 0,
      }),
      TypeError,
    )
  })

  t.test('prune removes expired challenges only', async (t) => {
    const now = new Date('2030-01-01T00:00:00Z')
    const expired = fakeHash()
    const live = fakeHash()
    await issueWebAuthnChallenge(db, {
      challengeHash: expired,
      purpose: 'sign_in',
      userId: null,
      ttlSeconds: 60,
      now: new Date(now.getTime() - 61_000),
    })
    await issueWebAuthnChallenge(db, {
      challengeHash: live,
      purpose: 'sign_in',
      userId: null,
      ttlSeconds: 60,
      now,
    })
    const count = async () =>
      Number(
        (
          await db
            .selectFrom('webauthn_challenges')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    const before = await count()
    const pruned = await pruneWebAuthnChallenges(db, now)
    t.ok(pruned >= 1, 'at least the expired one')
    t.equal(await count(), before - pruned, 'it says how many')
    const left = await db
      .selectFrom('webauthn_challenges')
      .select('challenge_hash')
      .where('challenge_hash', 'in', [expired, live])
      .execute()
    t.same(
      left.map((row) => row.challenge_hash),
      [live],
      'the live one stays',
    )
  })

  t.test("a user's passkeys and challenges go with the user", async (t) => {
    const user = await newUser(db)
    const key = stored(t, await addPasskey(db, passkey(user.id)))
    const hash = fakeHash()
    await issueWebAuthnChallenge(db, {
      challengeHash: hash,
      purpose: 'reauthenticate',
      userId: user.id,
      ttlSeconds: 300,
    })
    t.ok(await deleteUser(db, user.id))
    t.equal(await findPasskeyByCredentialId(db, key.credentialId), undefined, 'passkey gone')
    t.equal(
      await takeWebAuthnChallenge(db, { challengeHash: hash, purpose: 'reauthenticate' }),
      undefined,
      'challenge gone',
    )
  })
})
