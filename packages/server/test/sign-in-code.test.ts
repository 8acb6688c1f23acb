// SPEC §9: sign-in codes, mailed through a real SMTP server on loopback.
import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  captureLog,
  manualClock,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'
import { codeIn, noMoreMail, nthMail, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'

/** A new address as the server stores it (domain in lower case), to compare with mail and `me`. */
const freshEmail = (prefix: string) => uniqueEmail(prefix).toLowerCase()

t.test('sign-in codes: 6 digits, 10 minutes, 5 attempts', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const clock = manualClock()
    const { logged, logger } = captureLog()
    const server = await startServer(
      database,
      {
        clock: clock.read,
        publicUrl: PUBLIC_URL,
        mailLimit: '20/15m',
        loginIpLimit: '1000/1m',
        mail: { smtpUrl: smtp.url },
      },
      undefined,
      { logger },
    )
    t.teardown(server.close)
    const { email, result } = await registerBearer(server.url, freshEmail('coded'))
    const anonymous = new Client(server.url)
    let sent = 0
    const requestCode = async () => {
      const reply = await anonymous.mutation('auth.requestSignInCode', { email })
      t.equal(reply.status, 200)
      sent++
      return codeIn(await nthMail(smtp.received, sent))
    }
    const signIn = (code: string, transport = 'bearer') =>
      anonymous.mutation<AuthResult & { user: { emailVerified: boolean } }>('auth.signInWithCode', {
        email,
        code,
        transport,
      })
    const wrongOf = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

    const code = await requestCode()
    t.match(code, /^\d{6}$/)
    t.equal((await signIn(wrongOf(code))).reason, 'INVALID_CREDENTIALS', 'a wrong code')
    const good = await signIn(code.replace(/(\d{3})/, '$1 '))
    t.equal(good.status, 200, 'the right code (spaces allowed) signs in')
    t.ok(good.data.tokens?.accessToken, 'with tokens, as auth.login')
    t.equal(good.data.user.emailVerified, true, 'a code proves the mailbox')
    t.equal((await signIn(code)).reason, 'INVALID_CREDENTIALS', 'used once')

    // A burst of 20 wrong guesses checks at most 5: the right code then fails too.
    const burstCode = await requestCode()
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signIn(String((Number(burstCode) + 1 + i) % 1_000_000).padStart(6, '0')),
      ),
    )
    t.ok(
      guesses.every((reply) => reply.reason === 'INVALID_CREDENTIALS'),
      '20 concurrent wrong guesses',
    )
    t.equal((await signIn(burstCode)).reason, 'INVALID_CREDENTIALS', 'spent after 5 attempts')
    const [attempts] = await database.db
      .selectFrom('one_time_tokens')
      .select('attempts')
      .where('purpose', '=', 'sign_in_code')
      .where('user_id', '=', result.user.id)
      .execute()
    t.equal(attempts?.attempts, 5, 'exactly 5 attempts were checked')

    // Four wrong, then the right one: still works.
    const fifth = await requestCode()
    for (let i = 0; i < 4; i++) await signIn(wrongOf(fifth))
    const cookieSignIn = await signIn(fifth, 'cookie')
    t.equal(cookieSignIn.status, 200, 'the fifth attempt may be right')
    t.ok(
      cookieSignIn.setCookies.some((cookie) => cookie.startsWith('bw_access=')),
      'the cookie transport sets cookies, as auth.login',
    )

    // A newer code voids the older; expiry by the clock.
    const older = await requestCode()
    const newer = await requestCode()
    if (older !== newer)
      t.equal((await signIn(older)).reason, 'INVALID_CREDENTIALS', 'the older code is void')
    clock.advance(11 * 60)
    t.equal((await signIn(newer)).reason, 'INVALID_CREDENTIALS', 'expired after 10 minutes')

    // An unknown address: the same answer, no mail; its sign-in fails the same way.
    const count = smtp.received.length
    const unknown = await anonymous.mutation('auth.requestSignInCode', {
      email: freshEmail('nobody'),
    })
    t.same(unknown.body, (await anonymous.mutation('auth.requestSignInCode', { email })).body)
    sent++
    await nthMail(smtp.received, count + 1)
    t.ok(await noMoreMail(smtp.received, count + 1), 'only the real address got a code')
    const nobody = await anonymous.mutation('auth.signInWithCode', {
      email: freshEmail('nobody'),
      code: '123456',
    })
    t.equal(nobody.reason, 'INVALID_CREDENTIALS')

    for (const bad of ['12345', '1234567', 'abcdef', '12345\u0000', 'x'.repeat(10_000), 123456]) {
      const reply = await anonymous.mutation('auth.signInWithCode', { email, code: bad })
      t.equal(reply.status, 400, `malformed code ${JSON.stringify(bad).slice(0, 12)} → 400`)
    }
    const log = logged.join('')
    t.notOk(
      [code, burstCode, fifth].some((c) => log.includes(`code is ${c}`) || log.includes(`"${c}"`)),
      'no code in the log',
    )
    const stored = await database.db.selectFrom('one_time_tokens').select('token_hash').execute()
    t.notOk(
      stored.some((row) => [code, burstCode, fifth, older, newer].includes(row.token_hash)),
      'only digests in the database',
    )
  }),
)
