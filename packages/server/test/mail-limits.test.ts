// SPEC §9: "requests are rate limited per address and per IP". Every lifecycle request
// passes the per-IP limit (here 3 a minute), and a burst cannot mail past it.
import type { Database } from '@breakwater/db'
import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import { Client, PASSWORD, registerBearer, startServer, uniqueEmail } from './helpers.js'
import { noMoreMail, nthMail, startSmtpServer } from './smtp.js'

const NEW_PASSWORD = 'an even sturdier passphrase 43'
const WELL_FORMED_TOKEN = 'A'.repeat(43)
const IP_LIMIT = 3

/** A server whose per-IP limit is IP_LIMIT a minute, mailing a loopback SMTP server. */
async function limitedServer(t: Test, database: Database) {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const server = await startServer(
    database,
    { loginIpLimit: `${IP_LIMIT}/1m`, mailLimit: '100/15m', mail: { smtpUrl: smtp.url } },
    undefined,
    { trustProxy: true },
  )
  t.teardown(server.close)
  return { smtp, server }
}

t.test('the per-IP limit refuses every lifecycle request past it, with Retry-After', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const { server } = await limitedServer(t, database)
    const owner = await registerBearer(server.url, uniqueEmail('limited').toLowerCase())
    const { email } = owner
    // Each procedure from its own address, so each meets the limit afresh.
    const procedures: Array<[name: string, input: unknown, signedIn: boolean]> = [
      ['auth.requestEmailVerification', undefined, true],
      ['auth.verifyEmail', { token: WELL_FORMED_TOKEN }, false],
      ['auth.requestPasswordReset', { email }, false],
      ['auth.resetPassword', { token: WELL_FORMED_TOKEN, newPassword: NEW_PASSWORD }, false],
      [
        'auth.requestEmailChange',
        { newEmail: uniqueEmail('elsewhere'), currentPassword: PASSWORD },
        true,
      ],
      ['auth.confirmEmailChange', { token: WELL_FORMED_TOKEN }, false],
      ['auth.requestSignInCode', { email }, false],
    ]
    for (const [index, [name, input, signedIn]] of procedures.entries()) {
      const client = signedIn ? owner.client : new Client(server.url)
      const headers = { 'x-forwarded-for': `198.51.100.${index + 1}` }
      const reasons: Array<string | undefined> = []
      for (let i = 0; i < IP_LIMIT; i++)
        reasons.push((await client.mutation(name, input, headers)).reason)
      t.notOk(reasons.includes('RATE_LIMITED'), `${name}: ${IP_LIMIT} pass (${reasons})`)
      const refused = await client.mutation(name, input, headers)
      t.equal(refused.status, 429, `${name}: the next is refused`)
      t.equal(refused.reason, 'RATE_LIMITED')
      // The window slides: three hits late in one minute still weigh in for the first
      // third of the next, so the longest honest wait is 60 s × (2 − 2/3) = 80 s.
      const wait = Number(refused.headers.get('retry-after'))
      t.ok(wait >= 1 && wait <= 80, `${name}: Retry-After ${wait} s`)
    }
  }),
)

t.test('a concurrent burst mails no more than the per-IP limit lets through', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const { smtp, server } = await limitedServer(t, database)
    const owner = await registerBearer(server.url, uniqueEmail('burst').toLowerCase())
    let mails = 0
    for (const [index, [name, input, client]] of (
      [
        ['auth.requestPasswordReset', { email: owner.email }, new Client(server.url)],
        ['auth.requestSignInCode', { email: owner.email }, new Client(server.url)],
        ['auth.requestEmailVerification', undefined, owner.client],
      ] as const
    ).entries()) {
      const headers = { 'x-forwarded-for': `203.0.113.${index + 1}` }
      const replies = await Promise.all(
        Array.from({ length: 10 }, () => client.mutation(name, input, headers)),
      )
      const through = replies.filter((reply) => reply.status === 200).length
      t.equal(through, IP_LIMIT, `${name}: ${IP_LIMIT} of 10 answered`)
      t.equal(
        replies.filter((reply) => reply.reason === 'RATE_LIMITED').length,
        10 - IP_LIMIT,
        'the rest refused',
      )
      mails += through
      await nthMail(smtp.received, mails)
      t.ok(await noMoreMail(smtp.received, mails), `${name}: ${through} mails for 10 requests`)
    }
  }),
)
