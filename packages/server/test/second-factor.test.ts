// SPEC §10: TOTP (enrol, confirm, replay), recovery codes, the login challenge,
// and step-up (auth_time, REAUTH_REQUIRED, auth.reauthenticate).
import { forEachDialect } from '@breakwater/db/testing'
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateHOTP } from '@oslojs/otp'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  captureLog,
  manualClock,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

const NEW_PASSWORD = 'an even sturdier passphrase 43'

/** The claims of an access token, read without verifying (the server verified it). */
function decodeJwt(token: string): { amr?: string[]; auth_time?: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
}

interface Challenge {
  mfaRequired: true
  challenge: string
  methods: string[]
}

t.test('TOTP, recovery codes, the login challenge and step-up', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const { logged, logger } = captureLog()
    const server = await startServer(
      database,
      { clock: clock.read, loginIpLimit: '1000/1m', loginAccountLimit: '50/15m' },
      undefined,
      { logger },
    )
    t.teardown(server.close)
    const owner = await registerBearer(server.url, uniqueEmail('mfa'))
    const codeAt = (secret: string, offsetSteps = 0) =>
      generateHOTP(
        decodeBase32IgnorePadding(secret),
        BigInt(Math.floor(clock.now / 30_000) + offsetSteps),
        6,
      )

    // Enrolment.
    const enrolled = await owner.client.mutation<{ secret: string; uri: string }>('mfa.totp.enroll')
    t.equal(enrolled.status, 200)
    const { secret, uri } = enrolled.data
    t.match(secret, /^[A-Z2-7]{32}$/, '160 bits, base32')
    t.match(uri, /^otpauth:\/\/totp\/Breakwater:/)
    t.match(uri, `secret=${secret}`)
    t.match(uri, 'issuer=Breakwater')
    const wrong = await owner.client.mutation('mfa.totp.confirm', {
      code: String((Number(codeAt(secret)) + 1) % 1_000_000).padStart(6, '0'),
    })
    t.equal(wrong.reason, 'INVALID_CREDENTIALS', 'a wrong code does not confirm')
    const confirmed = await owner.client.mutation<{ recoveryCodes: string[] }>('mfa.totp.confirm', {
      code: codeAt(secret),
    })
    t.equal(confirmed.status, 200)
    const recoveryCodes = confirmed.data.recoveryCodes
    t.equal(new Set(recoveryCodes).size, 10, '10 distinct recovery codes')
    t.ok(recoveryCodes.every((code) => /^[a-z2-7]{5}-[a-z2-7]{5}$/.test(code)))
    t.equal(
      (await owner.client.mutation('mfa.totp.enroll')).reason,
      'MFA_ALREADY_ENABLED',
      'no second enrolment over a confirmed one',
    )
    const [row] = await database.db
      .selectFrom('users')
      .select(['totp_sealed'])
      .where('id', '=', owner.result.user.id)
      .execute()
    const seedHex = Buffer.from(decodeBase32IgnorePadding(secret)).toString('hex')
    t.notMatch(row?.totp_sealed ?? '', secret, 'the seed is not stored in base32…')
    t.notMatch(row?.totp_sealed ?? '', seedHex, '…nor in hex')
    const stored = await database.db.selectFrom('recovery_codes').select('code_hash').execute()
    t.notOk(
      stored.some((r) => recoveryCodes.some((code) => r.code_hash.includes(code.replace('-', '')))),
      'recovery codes are stored as digests',
    )

    // Login now stops at a challenge: no session, no cookie.
    const anonymous = new Client(server.url)
    const wrongPassword = await anonymous.mutation('auth.login', {
      email: owner.email,
      password: NEW_PASSWORD,
    })
    t.equal(wrongPassword.reason, 'INVALID_CREDENTIALS', 'a wrong password tells nothing more')
    t.notMatch(JSON.stringify(wrongPassword.body), /mfa|challenge/i)
    const login = async (transport = 'bearer') => {
      const reply = await new Client(server.url).mutation<Challenge>('auth.login', {
        email: owner.email,
        password: PASSWORD,
        transport,
      })
      return reply
    }
    const pending = await login('cookie')
    t.same(Object.keys(pending.data).sort(), ['challenge', 'methods', 'mfaRequired'])
    t.same(pending.data.methods, ['totp', 'recovery_code'])
    t.same(pending.setCookies, [], 'no cookie before the second factor')

    clock.advance(30)
    const verify = (input: Record<string, unknown>) =>
      new Client(server.url).mutation<AuthResult>('auth.verifySecondFactor', {
        transport: 'bearer',
        ...input,
      })
    const totpCode = codeAt(secret)
    const done = await verify({ challenge: pending.data.challenge, code: totpCode })
    t.equal(done.status, 200, 'the code finishes the login')
    const claims = decodeJwt(done.data.tokens!.accessToken)
    t.same(claims.amr, ['pwd', 'otp'], 'amr: password and one-time password')
    t.equal(claims.auth_time, Math.floor(clock.now / 1000), 'auth_time: now')
    t.equal(
      (await verify({ challenge: pending.data.challenge, code: totpCode })).reason,
      'INVALID_CREDENTIALS',
      'the challenge works once',
    )
    const replay = await verify({ challenge: (await login()).data.challenge, code: totpCode })
    t.equal(replay.reason, 'INVALID_CREDENTIALS', 'a code is not accepted twice (replay)')

    // Recovery codes: once each.
    const rc = await verify({
      challenge: (await login()).data.challenge,
      recoveryCode: recoveryCodes[0]!.toUpperCase(),
    })
    t.equal(rc.status, 200, 'a recovery code (any case) finishes the login')
    t.same(decodeJwt(rc.data.tokens!.accessToken).amr, ['pwd', 'rc'])
    t.equal(
      (await verify({ challenge: (await login()).data.challenge, recoveryCode: recoveryCodes[0] }))
        .reason,
      'INVALID_CREDENTIALS',
      'a recovery code works once',
    )

    // 20 guesses at once on one challenge: at most 5 are checked, then even the right code fails.
    const burst = (await login()).data.challenge
    clock.advance(30)
    const right = codeAt(secret)
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        verify({
          challenge: burst,
          code: String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'),
        }),
      ),
    )
    t.ok(guesses.every((g) => g.reason === 'INVALID_CREDENTIALS'))
    t.equal((await verify({ challenge: burst, code: right })).reason, 'INVALID_CREDENTIALS')
    const [challengeRow] = await database.db
      .selectFrom('one_time_tokens')
      .select('attempts')
      .where('purpose', '=', 'mfa_challenge')
      .where('user_id', '=', owner.result.user.id)
      .execute()
    t.equal(challengeRow?.attempts, 5, 'exactly 5 attempts counted')

    // A challenge lives 5 minutes.
    const stale = (await login()).data.challenge
    clock.advance(301)
    t.equal(
      (await verify({ challenge: stale, code: codeAt(secret) })).reason,
      'INVALID_CREDENTIALS',
      'expired after 5 minutes',
    )
    for (const bad of [
      { challenge: stale },
      { challenge: stale, code: '12345' },
      { challenge: stale, code: '123456', recoveryCode: 'abcde-fghij' },
      { challenge: 'x'.repeat(10_000), code: '123456' },
      { challenge: '../../etc', code: '123456' },
    ]) {
      const reply = await verify(bad)
      t.equal(reply.status, 400, `malformed: ${Object.keys(bad).join('+')}`)
    }

    // Step-up: 11 minutes after the proof, credential changes need a fresh one.
    const session = new Client(server.url)
    session.bearer = done.data.tokens!.accessToken
    clock.advance(60)
    // A fresh access token from a refresh keeps the session's auth_time.
    const refreshed = await new Client(server.url).mutation<AuthResult>('auth.refresh', {
      refreshToken: done.data.tokens!.refreshToken,
    })
    t.equal(
      decodeJwt(refreshed.data.tokens!.accessToken).auth_time,
      claims.auth_time,
      'a refresh carries auth_time over',
    )
    session.bearer = refreshed.data.tokens!.accessToken
    clock.advance(11 * 60)
    const tooOld = await session.mutation('auth.changePassword', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    })
    t.equal(tooOld.status, 401)
    t.equal(tooOld.reason, 'REAUTH_REQUIRED', 'changePassword demands a recent proof')
    for (const [path, input] of [
      ['auth.requestEmailChange', { newEmail: uniqueEmail('x'), currentPassword: PASSWORD }],
      ['auth.deleteAccount', { currentPassword: PASSWORD }],
      ['mfa.totp.disable', { code: codeAt(secret) }],
    ] as const) {
      t.equal((await session.mutation(path, input)).reason, 'REAUTH_REQUIRED', `so does ${path}`)
    }
    t.equal((await session.query('auth.me')).status, 200, 'other calls go on')
    const badProof = await session.mutation('auth.reauthenticate', { password: NEW_PASSWORD })
    t.equal(badProof.reason, 'INVALID_CREDENTIALS')
    const twoProofs = await session.mutation('auth.reauthenticate', {
      password: PASSWORD,
      code: '123456',
    })
    t.equal(twoProofs.status, 400, 'one proof at a time')
    const renewed = await session.mutation<{ tokens: { accessToken: string } }>(
      'auth.reauthenticate',
      { password: PASSWORD },
    )
    t.equal(renewed.status, 200)
    const renewedClaims = decodeJwt(renewed.data.tokens.accessToken)
    t.equal(renewedClaims.auth_time, Math.floor(clock.now / 1000), 'auth_time renewed')
    t.same(renewedClaims.amr, ['pwd'])
    session.bearer = renewed.data.tokens.accessToken
    clock.advance(30)
    const byCode = await session.mutation<{ tokens: { accessToken: string } }>(
      'auth.reauthenticate',
      { code: codeAt(secret) },
    )
    t.same(decodeJwt(byCode.data.tokens.accessToken).amr, ['otp'], 'or by a TOTP code')
    session.bearer = byCode.data.tokens.accessToken

    // Disabling the factor: login gives a session at once again.
    clock.advance(30)
    t.equal((await session.mutation('mfa.totp.disable', { code: codeAt(secret) })).status, 200)
    const plain = await login()
    t.ok((plain.data as unknown as AuthResult).tokens?.accessToken, 'no challenge any more')
    t.equal(
      await database.db
        .selectFrom('recovery_codes')
        .select('id')
        .where('user_id', '=', owner.result.user.id)
        .execute()
        .then((rows) => rows.length),
      0,
      'the recovery codes went with it',
    )
    const log = logged.join('')
    t.notOk(log.includes(secret), 'no seed in the log')
    t.notOk(
      recoveryCodes.some((code) => log.includes(code)),
      'no recovery code in the log',
    )
    const audited = await database.db
      .selectFrom('auth_events')
      .select('type')
      .where('user_id', '=', owner.result.user.id)
      .execute()
    const types = new Set(audited.map((row) => row.type))
    for (const type of [
      'mfa.totp_enabled',
      'mfa.challenged',
      'mfa.failed',
      'mfa.recovery_code_used',
      'session.reauthenticated',
      'mfa.totp_disabled',
    ])
      t.ok(types.has(type), `audited: ${type}`)
  }),
)

t.test('a session cannot guess step-up codes without limit', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const server = await startServer(database, {
      clock: clock.read,
      loginIpLimit: '1000/1m',
      loginAccountLimit: '5/15m',
    })
    t.teardown(server.close)
    const owner = await registerBearer(server.url, uniqueEmail('guess'))
    const { secret } = (await owner.client.mutation<{ secret: string }>('mfa.totp.enroll')).data
    const code = () =>
      generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(clock.now / 30_000)), 6)
    t.equal((await owner.client.mutation('mfa.totp.confirm', { code: code() })).status, 200)
    // Past STEP_UP_MAX_AGE: only auth.reauthenticate helps, and a thief holds the session.
    clock.advance(11 * 60)
    const right = code()
    const wrongCodes = Array.from({ length: 20 }, (_, i) =>
      String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'),
    )
    const answers = await Promise.all(
      wrongCodes.map((guess) => owner.client.mutation('auth.reauthenticate', { code: guess })),
    )
    const checked = answers.filter((a) => a.reason === 'INVALID_CREDENTIALS').length
    const limited = answers.filter((a) => a.reason === 'RATE_LIMITED').length
    t.equal(checked, 5, '20 guesses at once: 5 checked (the account limit)')
    t.equal(limited, 15, 'the rest refused before any check')
    const waiting = await owner.client.mutation('auth.reauthenticate', { code: right })
    t.equal(waiting.reason, 'RATE_LIMITED', 'even the right code waits for the window')
    const retryAfter = Number(waiting.headers.get('retry-after'))
    t.ok(retryAfter >= 1 && retryAfter <= 30 * 60, `Retry-After ${retryAfter} s`)
    t.equal(
      (await owner.client.mutation('mfa.totp.disable', { code: right })).reason,
      'REAUTH_REQUIRED',
      'and nothing else changes meanwhile',
    )
    const failures = await database.db
      .selectFrom('auth_events')
      .select('type')
      .where('user_id', '=', owner.result.user.id)
      .where('type', '=', 'mfa.failed')
      .execute()
    t.equal(failures.length, 5, 'five failures audited')
    // A right code passes once Retry-After has passed (after a refresh: the access token
    // aged too). Not a fixed 16 minutes: the window slides, so how long the five failures
    // still weigh depends on where in the 15-minute window they fell.
    clock.advance(retryAfter)
    const refreshed = await new Client(server.url).mutation<{ tokens: { accessToken: string } }>(
      'auth.refresh',
      { refreshToken: owner.tokens.refreshToken },
    )
    owner.client.bearer = refreshed.data.tokens.accessToken
    t.equal((await owner.client.mutation('auth.reauthenticate', { code: code() })).status, 200)
  }),
)
