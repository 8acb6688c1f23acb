// SPEC §9: email change, mailed through a real SMTP server on loopback.
import { forEachDialect } from '@breakwater/db/testing'
import type { ParsedMail } from 'mailparser'
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
import { linkToken, noMoreMail, nthMail, sentTo, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'

/** A new address as the server stores it (domain in lower case), to compare with mail and `me`. */
const freshEmail = (prefix: string) => uniqueEmail(prefix).toLowerCase()
const NEW_PASSWORD = 'an even sturdier passphrase 43'
const BAD_TOKENS = [
  '',
  'x'.repeat(100_000),
  'abc\u0000defghijklmnopq',
  '../../etc/passwd',
  '{"a":1}',
]

t.test('email change: link to the new address, notice to the old', (t) =>
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
        mailLimit: '10/15m',
        mail: { smtpUrl: smtp.url },
      },
      undefined,
      { logger },
    )
    t.teardown(server.close)
    const owner = await registerBearer(server.url, freshEmail('mover'))
    const newEmail = freshEmail('moved')
    const anonymous = new Client(server.url)

    const wrong = await owner.client.mutation('auth.requestEmailChange', {
      newEmail,
      currentPassword: NEW_PASSWORD,
    })
    t.equal(wrong.reason, 'INVALID_CREDENTIALS', 'the current password is checked')
    const same = await owner.client.mutation('auth.requestEmailChange', {
      newEmail: owner.email.toUpperCase(),
      currentPassword: PASSWORD,
    })
    t.equal(same.reason, 'EMAIL_TAKEN', 'the address the account already has')
    t.ok(await noMoreMail(smtp.received, 0), 'neither sent a mail')

    const asked = await owner.client.mutation('auth.requestEmailChange', {
      newEmail,
      currentPassword: PASSWORD,
    })
    t.equal(asked.status, 200)
    await nthMail(smtp.received, 2)
    const link = smtp.received.find((mail) => sentTo(mail, newEmail))
    const notice = smtp.received.find((mail) => sentTo(mail, owner.email))
    t.ok(link && notice, 'one mail to each address')
    t.match(link?.subject, /confirm your new email address/)
    t.match(notice?.text, newEmail, 'the notice names the new address')
    t.notMatch(notice?.text, /token=/, 'and carries no link')
    const token = linkToken(link as ParsedMail, PUBLIC_URL, 'confirm-email-change')
    t.equal(
      (await owner.client.query<AuthResult>('auth.me')).data.user.email,
      owner.email,
      'nothing changes before the new mailbox confirms',
    )

    const confirmed = await anonymous.mutation('auth.confirmEmailChange', { token })
    t.equal(confirmed.status, 200)
    const me = await owner.client.query<AuthResult & { user: { emailVerified: boolean } }>(
      'auth.me',
    )
    t.equal(me.data.user.email, newEmail, 'the session sees the new address')
    t.equal(me.data.user.emailVerified, true, 'proved by the link')
    t.equal(
      (await anonymous.mutation('auth.confirmEmailChange', { token })).reason,
      'LINK_INVALID',
      'used once',
    )
    const oldLogin = await anonymous.mutation('auth.login', {
      email: owner.email,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(oldLogin.reason, 'INVALID_CREDENTIALS', 'the old address no longer signs in')
    const newLogin = await anonymous.mutation('auth.login', {
      email: newEmail,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(newLogin.status, 200, 'the new one does')
    const oldFree = await anonymous.mutation('auth.register', {
      email: owner.email,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(oldFree.status, 200, 'the old address is free again')

    // An address another account holds: the same answer, no link to it.
    const taken = await registerBearer(server.url, freshEmail('holder'))
    const count = smtp.received.length
    const toTaken = await owner.client.mutation('auth.requestEmailChange', {
      newEmail: taken.email,
      currentPassword: PASSWORD,
    })
    t.same(toTaken.body, asked.body, 'the same answer for a taken address')
    t.ok(await noMoreMail(smtp.received, count), 'and no mail')

    // Taken between request and confirmation: EMAIL_TAKEN, the account keeps its address.
    const racedEmail = freshEmail('raced')
    const before = smtp.received.length
    await owner.client.mutation('auth.requestEmailChange', {
      newEmail: racedEmail,
      currentPassword: PASSWORD,
    })
    await nthMail(smtp.received, before + 2)
    const raced = smtp.received.slice(before).find((mail) => sentTo(mail, racedEmail))
    await registerBearer(server.url, racedEmail)
    const lost = await anonymous.mutation('auth.confirmEmailChange', {
      token: linkToken(raced as ParsedMail, PUBLIC_URL, 'confirm-email-change'),
    })
    t.equal(lost.reason, 'EMAIL_TAKEN')
    t.equal((await owner.client.query<AuthResult>('auth.me')).data.user.email, newEmail)

    // Expiry (30 minutes by default).
    const late = smtp.received.length
    const lateEmail = freshEmail('late')
    await owner.client.mutation('auth.requestEmailChange', {
      newEmail: lateEmail,
      currentPassword: PASSWORD,
    })
    await nthMail(smtp.received, late + 2)
    const expiring = smtp.received.slice(late).find((mail) => sentTo(mail, lateEmail))
    clock.advance(31 * 60)
    const expired = await anonymous.mutation('auth.confirmEmailChange', {
      token: linkToken(expiring as ParsedMail, PUBLIC_URL, 'confirm-email-change'),
    })
    t.equal(expired.reason, 'LINK_INVALID', 'expired after 30 minutes')

    for (const bad of BAD_TOKENS) {
      const reply = await anonymous.mutation('auth.confirmEmailChange', { token: bad })
      t.ok(reply.status >= 400 && reply.status < 500, `bad token → ${reply.status}`)
    }
    const unauthenticated = await anonymous.mutation('auth.requestEmailChange', {
      newEmail: freshEmail('x'),
      currentPassword: PASSWORD,
    })
    t.equal(unauthenticated.reason, 'TOKEN_MISSING', 'needs a session')
    t.notOk(logged.join('').includes(token), 'no token in the log')
  }),
)
