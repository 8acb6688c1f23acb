// SPEC §9 (first part): email verification and password reset, mailed through a real
// SMTP server on loopback and read back with mailparser.
import { Writable } from 'node:stream'
import { forEachDialect } from '@breakwater/db/testing'
import type { ParsedMail } from 'mailparser'
import t, { type Test } from 'tap'
import { Client, manualClock, PASSWORD, sleep, startServer, uniqueEmail } from './helpers.js'
import { linkToken, nthMail, startSmtpServer } from './smtp.js'

const NEW_PASSWORD = 'an even sturdier passphrase 43'
const PUBLIC_URL = 'https://app.example.test'

function tokenIn(mail: ParsedMail, action: string): string {
  return linkToken(mail, PUBLIC_URL, action)
}

t.test('email verification and password reset through SMTP', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const logged: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk))
        done()
      },
    })
    const clock = manualClock()
    const server = await startServer(
      database,
      {
        clock: clock.read,
        publicUrl: PUBLIC_URL,
        mailLimit: '5/15m',
        mail: { smtpUrl: smtp.url, from: 'Acme <no-reply@acme.test>', appName: 'Acme' },
      },
      undefined,
      { logger: { level: 'info', stream } },
    )
    t.teardown(server.close)

    const email = uniqueEmail('mail')
    const signUp = await new Client(server.url).mutation<{
      user: { email: string; emailVerified: boolean }
      tokens: { accessToken: string; refreshToken: string }
    }>('auth.register', {
      email,
      password: PASSWORD,
      transport: 'bearer',
      displayName: '<b>Ada</b>',
    })
    t.equal(signUp.data.user.emailVerified, false, 'a new address is not verified')
    const signedIn = new Client(server.url)
    signedIn.bearer = signUp.data.tokens.accessToken

    // Verification: the link arrives, works once.
    t.equal((await signedIn.mutation('auth.requestEmailVerification')).status, 200)
    const verifyMail = await nthMail(smtp.received, 1)
    t.equal(verifyMail.subject, 'Acme: confirm your email address')
    t.notMatch(String(verifyMail.html), '<b>Ada</b>', 'the display name is escaped in HTML')
    const verifyToken = tokenIn(verifyMail, 'verify-email')
    t.ok(verifyToken.length >= 22, '≥ 128 bits')
    const anonymous = new Client(server.url)
    t.equal((await anonymous.mutation('auth.verifyEmail', { token: verifyToken })).status, 200)
    const me = await signedIn.query<{ user: { emailVerified: boolean } }>('auth.me')
    t.equal(me.data.user.emailVerified, true)
    t.equal(
      (await anonymous.mutation('auth.verifyEmail', { token: verifyToken })).reason,
      'LINK_INVALID',
      'used once',
    )

    // Reset: a second session too; the reset ends both.
    const other = await new Client(server.url).mutation<{ tokens: { refreshToken: string } }>(
      'auth.login',
      { email, password: PASSWORD, transport: 'bearer' },
    )
    t.equal((await anonymous.mutation('auth.requestPasswordReset', { email })).status, 200)
    const resetMail = await nthMail(smtp.received, 2)
    const resetToken = tokenIn(resetMail, 'reset-password')
    const weak = await anonymous.mutation('auth.resetPassword', {
      token: resetToken,
      newPassword: 'short',
    })
    t.equal(weak.reason, 'WEAK_PASSWORD', 'a weak password is refused first…')
    const [first, second] = await Promise.all([
      anonymous.mutation('auth.resetPassword', { token: resetToken, newPassword: NEW_PASSWORD }),
      anonymous.mutation('auth.resetPassword', { token: resetToken, newPassword: NEW_PASSWORD }),
    ])
    t.same(
      [first.status, second.status].sort(),
      [200, 400],
      '…and the token was still good: two uses at once, one wins',
    )
    t.equal([first, second].find((r) => r.status === 400)?.reason, 'LINK_INVALID')
    t.equal((await signedIn.query('auth.me')).reason, 'SESSION_REVOKED', 'every session ended')
    const refreshed = await anonymous.mutation('auth.refresh', {
      refreshToken: other.data.tokens.refreshToken,
    })
    t.equal(refreshed.reason, 'SESSION_REVOKED')
    const oldLogin = await anonymous.mutation('auth.login', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(oldLogin.reason, 'INVALID_CREDENTIALS', 'the old password is gone')
    const newLogin = await anonymous.mutation('auth.login', {
      email,
      password: NEW_PASSWORD,
      transport: 'bearer',
    })
    t.equal(newLogin.status, 200, 'the new one works')

    // Unknown address: the same answer, no mail.
    const before = smtp.received.length
    const unknown = await anonymous.mutation('auth.requestPasswordReset', {
      email: uniqueEmail('nobody'),
    })
    t.equal(unknown.status, 200)
    t.same(
      unknown.body,
      (await anonymous.mutation('auth.requestPasswordReset', { email })).body,
      'same body',
    )
    await nthMail(smtp.received, before + 1)
    await sleep(200)
    t.equal(smtp.received.length, before + 1, 'only the real address got a mail')

    // A newer link voids the older; expiry by the clock.
    const older = tokenIn(smtp.received[before] as ParsedMail, 'reset-password')
    await anonymous.mutation('auth.requestPasswordReset', { email })
    const newer = tokenIn(await nthMail(smtp.received, before + 2), 'reset-password')
    t.equal(
      (await anonymous.mutation('auth.resetPassword', { token: older, newPassword: NEW_PASSWORD }))
        .reason,
      'LINK_INVALID',
      'the older link is void',
    )
    clock.advance(31 * 60)
    t.equal(
      (await anonymous.mutation('auth.resetPassword', { token: newer, newPassword: NEW_PASSWORD }))
        .reason,
      'LINK_INVALID',
      'expired after 30 minutes',
    )

    // A flood for one address: a handful of mails (mailLimit 5/15m here).
    const flooded = uniqueEmail('flood')
    await new Client(server.url).mutation('auth.register', { email: flooded, password: PASSWORD })
    const count = smtp.received.length
    for (let i = 0; i < 10; i++)
      t.equal(
        (await anonymous.mutation('auth.requestPasswordReset', { email: flooded })).status,
        200,
      )
    await sleep(300)
    t.ok(smtp.received.length - count <= 5, `${smtp.received.length - count} mails for 10 requests`)

    // Bad tokens: 4xx, never 5xx.
    for (const token of [
      '',
      'x'.repeat(100_000),
      'abc\u0000defghijklmnopq',
      '../../../../etc/passwd',
      '{"$gt":""}',
      42,
    ]) {
      const reply = await anonymous.mutation('auth.verifyEmail', { token })
      t.ok(reply.status >= 400 && reply.status < 500, `bad token → ${reply.status}`)
    }

    const log = logged.join('')
    for (const token of [verifyToken, resetToken, older, newer])
      t.notOk(log.includes(token), 'no token in the log')
    const stored = await database.db.selectFrom('one_time_tokens').select('token_hash').execute()
    t.notOk(
      stored.some((row) => [verifyToken, resetToken, older, newer].includes(row.token_hash)),
      'only digests in the database',
    )
  }),
)

t.test('REQUIRE_EMAIL_VERIFICATION: an unverified login is refused after the password check', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const server = await startServer(database, {
      requireEmailVerification: true,
      publicUrl: PUBLIC_URL,
      mail: { smtpUrl: smtp.url },
    })
    t.teardown(server.close)
    const email = uniqueEmail('unverified')
    const client = new Client(server.url)
    const registered = await client.mutation<{ tokens: { accessToken: string } }>('auth.register', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    })
    // SPEC §9 refuses the *login*: registration signs the new user in, so the app can
    // ask for (and resend) the verification mail from that session (docs/security.md).
    t.equal(registered.status, 200, 'registration still signs the new user in')
    const wrong = await client.mutation('auth.login', { email, password: NEW_PASSWORD })
    t.equal(wrong.reason, 'INVALID_CREDENTIALS', 'a wrong password says nothing about verification')
    const right = await client.mutation('auth.login', { email, password: PASSWORD })
    t.equal(right.status, 403)
    t.equal(right.reason, 'EMAIL_NOT_VERIFIED')

    const signedIn = new Client(server.url)
    signedIn.bearer = registered.data.tokens.accessToken
    t.equal((await signedIn.mutation('auth.requestEmailVerification')).status, 200)
    const token = tokenIn(await nthMail(smtp.received, 1), 'verify-email')
    t.equal((await client.mutation('auth.verifyEmail', { token })).status, 200)
    const verified = await client.mutation('auth.login', { email, password: PASSWORD })
    t.equal(verified.status, 200, 'once verified, the login passes')
  }),
)

t.test('a verification link lives 24 hours, by the injectable clock', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const clock = manualClock()
    const server = await startServer(database, {
      clock: clock.read,
      publicUrl: PUBLIC_URL,
      mail: { smtpUrl: smtp.url },
    })
    t.teardown(server.close)
    const email = uniqueEmail('day')
    const anonymous = new Client(server.url)
    // A fresh access token each time: the clock outruns the 15-minute ones.
    const signedIn = async () => {
      const reply = await anonymous.mutation<{ tokens: { accessToken: string } }>('auth.login', {
        email,
        password: PASSWORD,
        transport: 'bearer',
      })
      const client = new Client(server.url)
      client.bearer = reply.data.tokens.accessToken
      return client
    }
    await anonymous.mutation('auth.register', { email, password: PASSWORD })
    await (await signedIn()).mutation('auth.requestEmailVerification')
    const late = tokenIn(await nthMail(smtp.received, 1), 'verify-email')
    clock.advance(24 * 3600)
    t.equal(
      (await anonymous.mutation('auth.verifyEmail', { token: late })).reason,
      'LINK_INVALID',
      'at 24 hours the link has expired',
    )
    await (await signedIn()).mutation('auth.requestEmailVerification')
    const inTime = tokenIn(await nthMail(smtp.received, 2), 'verify-email')
    clock.advance(24 * 3600 - 60)
    t.equal(
      (await anonymous.mutation('auth.verifyEmail', { token: inTime })).status,
      200,
      'a minute before, it works',
    )
    const me = await (await signedIn()).query<{ user: { emailVerified: boolean } }>('auth.me')
    t.equal(me.data.user.emailVerified, true)
  }),
)

t.test('resetPassword refuses each bad token with a 4xx, and nothing changes', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const server = await startServer(database, {
      publicUrl: PUBLIC_URL,
      mail: { smtpUrl: smtp.url },
    })
    t.teardown(server.close)
    const email = uniqueEmail('bad-tokens')
    const anonymous = new Client(server.url)
    await anonymous.mutation('auth.register', { email, password: PASSWORD })
    await anonymous.mutation('auth.requestPasswordReset', { email })
    const real = tokenIn(await nthMail(smtp.received, 1), 'reset-password')
    for (const [kind, token] of [
      ['empty', ''],
      ['huge', 'x'.repeat(100_000)],
      ['NUL', 'abc\u0000defghijklmnopq'],
      ['path-like', '../../../../etc/passwd'],
      ['JSON-like', '{"$gt":""}'],
      ['the real one with a NUL', `${real}\u0000`],
    ] as const) {
      const reply = await anonymous.mutation('auth.resetPassword', {
        token,
        newPassword: NEW_PASSWORD,
      })
      t.ok(reply.status >= 400 && reply.status < 500, `${kind} token → ${reply.status}`)
    }
    const old = await anonymous.mutation('auth.login', { email, password: PASSWORD })
    t.equal(old.status, 200, 'the password still works')
    const unchanged = await anonymous.mutation('auth.login', { email, password: NEW_PASSWORD })
    t.equal(unchanged.reason, 'INVALID_CREDENTIALS', 'and was not replaced')
    const used = await anonymous.mutation('auth.resetPassword', {
      token: real,
      newPassword: NEW_PASSWORD,
    })
    t.equal(used.status, 200, 'the real link is still good')
  }),
)
