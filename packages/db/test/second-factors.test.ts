// SPEC §10 storage: TOTP steps taken once, recovery codes used once, challenge
// attempts bounded under a burst, a session's auth_time renewed.
import t from 'tap'
import {
  acceptTotpStep,
  consumeOneTimeToken,
  countChallengeAttempt,
  countRecoveryCodes,
  createSession,
  disableTotp,
  findTotp,
  findUserById,
  issueOneTimeToken,
  renewSessionAuthTime,
  replaceRecoveryCodes,
  revokeSession,
  startTotpEnrolment,
  useRecoveryCode,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { fakeHash, newUser } from './helpers.js'

forEachDialect(t, async (t, { db }) => {
  t.test('TOTP: enrol, confirm, each step once, disable', async (t) => {
    const user = await newUser(db)
    t.equal(await findTotp(db, user.id), undefined)
    t.ok(await startTotpEnrolment(db, { userId: user.id, sealed: 'sealed-1' }))
    t.match(await findTotp(db, user.id), { sealed: 'sealed-1', enabledAt: null, lastStep: null })
    t.notOk(await acceptTotpStep(db, { userId: user.id, step: 100 }), 'not enabled yet')
    t.ok(await acceptTotpStep(db, { userId: user.id, step: 100, enable: true }), 'confirmed')
    t.ok((await findUserById(db, user.id))?.totpEnabledAt, 'the user shows it')
    t.notOk(
      await startTotpEnrolment(db, { userId: user.id, sealed: 'sealed-2' }),
      'a second enrolment waits for a disable',
    )
    t.notOk(await acceptTotpStep(db, { userId: user.id, step: 100 }), 'the same step again')
    t.notOk(await acceptTotpStep(db, { userId: user.id, step: 99 }), 'an earlier step')
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => acceptTotpStep(db, { userId: user.id, step: 101 })),
    )
    t.equal(burst.filter(Boolean).length, 1, 'ten requests with one code: one wins')
    await replaceRecoveryCodes(db, { userId: user.id, codeHashes: [fakeHash(), fakeHash()] })
    await disableTotp(db, user.id)
    t.equal(await findTotp(db, user.id), undefined)
    t.equal(await countRecoveryCodes(db, user.id), 0, 'the recovery codes went with it')
    t.equal((await findUserById(db, user.id))?.totpEnabledAt, null)
  })

  t.test('recovery codes: each works once, also at once', async (t) => {
    const user = await newUser(db)
    const hashes = Array.from({ length: 10 }, fakeHash)
    await replaceRecoveryCodes(db, { userId: user.id, codeHashes: hashes })
    t.equal(await countRecoveryCodes(db, user.id), 10)
    const uses = await Promise.all(
      Array.from({ length: 8 }, () =>
        useRecoveryCode(db, { userId: user.id, codeHash: hashes[0] as string }),
      ),
    )
    t.equal(uses.filter(Boolean).length, 1, 'eight uses at once: one wins')
    t.equal(await countRecoveryCodes(db, user.id), 9)
    const other = await newUser(db)
    t.notOk(
      await useRecoveryCode(db, { userId: other.id, codeHash: hashes[1] as string }),
      "another user's code",
    )
    await replaceRecoveryCodes(db, { userId: user.id, codeHashes: [fakeHash()] })
    t.notOk(
      await useRecoveryCode(db, { userId: user.id, codeHash: hashes[1] as string }),
      'new codes void the old',
    )
    t.notOk(await useRecoveryCode(db, { userId: 'nope', codeHash: 'x'.repeat(20) }))
  })

  t.test('a login challenge: at most 5 attempts under a burst, then used once', async (t) => {
    const user = await newUser(db)
    const tokenHash = fakeHash()
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'mfa_challenge',
      tokenHash,
      ttlSeconds: 300,
      data: { amr: ['pwd'] },
    })
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => countChallengeAttempt(db, { tokenHash, maxAttempts: 5 })),
    )
    t.equal(burst.filter(Boolean).length, 5, '20 at once: 5 counted')
    t.same(burst.find(Boolean)?.data, { amr: ['pwd'] })
    t.equal(await countChallengeAttempt(db, { tokenHash, maxAttempts: 5 }), undefined, 'spent')
    const fresh = fakeHash()
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'mfa_challenge',
      tokenHash: fresh,
      ttlSeconds: 300,
    })
    t.ok(await countChallengeAttempt(db, { tokenHash: fresh, maxAttempts: 5 }))
    t.ok(await consumeOneTimeToken(db, { purpose: 'mfa_challenge', tokenHash: fresh }))
    t.equal(
      await countChallengeAttempt(db, { tokenHash: fresh, maxAttempts: 5 }),
      undefined,
      'used',
    )
    const late = fakeHash()
    await issueOneTimeToken(db, {
      userId: user.id,
      purpose: 'mfa_challenge',
      tokenHash: late,
      ttlSeconds: 300,
    })
    t.equal(
      await countChallengeAttempt(db, {
        tokenHash: late,
        maxAttempts: 5,
        now: new Date(Date.now() + 301_000),
      }),
      undefined,
      'expired after its lifetime',
    )
  })

  t.test("a session's auth_time and amr", async (t) => {
    const user = await newUser(db)
    const at = new Date(Date.now() - 3_600_000)
    const session = await createSession(db, {
      userId: user.id,
      refreshTokenHash: fakeHash(),
      idleTtlSeconds: 86_400,
      maxAgeSeconds: 86_400,
      amr: ['pwd', 'otp'],
      now: at,
    })
    t.same(session.authTime, at)
    t.same(session.amr, ['pwd', 'otp'])
    const later = new Date()
    const renewed = await renewSessionAuthTime(db, {
      sessionId: session.id,
      amr: ['otp'],
      now: later,
    })
    t.same(renewed?.authTime, later)
    t.same(renewed?.amr, ['otp'])
    await revokeSession(db, { sessionId: session.id, reason: 'logout' })
    t.equal(
      await renewSessionAuthTime(db, { sessionId: session.id, amr: ['pwd'] }),
      undefined,
      'not for an ended session',
    )
    const plain = await createSession(db, {
      userId: user.id,
      refreshTokenHash: fakeHash(),
      idleTtlSeconds: 60,
      maxAgeSeconds: 60,
    })
    t.same(plain.amr, ['pwd'], 'a password by default')
  })
})
