// The audit trail of the account lifecycle (docs/security.md, "Audit events"): every
// request and every use writes its row, a link that opens nothing too, and no row holds
// a token, a code or a password.
import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'
import { codeIn, linkToken, nthMail, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'
const NEW_PASSWORD = 'an even sturdier passphrase 43'
const WELL_FORMED_TOKEN = 'A'.repeat(43)

t.test('each lifecycle step writes its audit row, never a secret', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const server = await startServer(database, {
      publicUrl: PUBLIC_URL,
      mailLimit: '20/15m',
      mail: { smtpUrl: smtp.url },
    })
    t.teardown(server.close)
    const owner = await registerBearer(server.url, uniqueEmail('audited').toLowerCase())
    const userId = owner.result.user.id
    const anonymous = new Client(server.url)
    const secrets: string[] = [PASSWORD, NEW_PASSWORD, WELL_FORMED_TOKEN]
    let mails = 0
    const nextLink = async (action: string) => {
      const token = linkToken(await nthMail(smtp.received, ++mails), PUBLIC_URL, action)
      secrets.push(token)
      return token
    }

    await owner.client.mutation('auth.requestEmailVerification')
    await anonymous.mutation('auth.verifyEmail', { token: await nextLink('verify-email') })

    await anonymous.mutation('auth.requestPasswordReset', { email: uniqueEmail('nobody') })
    await anonymous.mutation('auth.requestPasswordReset', { email: owner.email })
    await anonymous.mutation('auth.resetPassword', {
      token: await nextLink('reset-password'),
      newPassword: NEW_PASSWORD,
    })

    await anonymous.mutation('auth.requestSignInCode', { email: owner.email })
    const code = codeIn(await nthMail(smtp.received, ++mails))
    secrets.push(code)
    const wrongCode = code === '000000' ? '111111' : '000000'
    await anonymous.mutation('auth.signInWithCode', { email: owner.email, code: wrongCode })
    const coded = await anonymous.mutation<AuthResult>('auth.signInWithCode', {
      email: owner.email,
      code,
      transport: 'bearer',
    })
    t.equal(coded.status, 200)
    const signedIn = new Client(server.url)
    signedIn.bearer = coded.data.tokens?.accessToken

    const newEmail = uniqueEmail('moved').toLowerCase()
    await signedIn.mutation('auth.requestEmailChange', { newEmail, currentPassword: NEW_PASSWORD })
    await anonymous.mutation('auth.confirmEmailChange', {
      token: await nextLink('confirm-email-change'),
    })

    // Links that open nothing: one of each purpose.
    for (const name of ['auth.verifyEmail', 'auth.resetPassword', 'auth.confirmEmailChange'])
      t.equal(
        (
          await anonymous.mutation(name, {
            token: WELL_FORMED_TOKEN,
            newPassword: NEW_PASSWORD,
          })
        ).reason,
        'LINK_INVALID',
      )

    t.equal(
      (await signedIn.mutation('auth.deleteAccount', { currentPassword: NEW_PASSWORD })).status,
      200,
    )

    const rows = await database.db
      .selectFrom('auth_events')
      .select(['type', 'user_id', 'details'])
      .orderBy('occurred_at')
      .orderBy('id')
      .execute()
    const of = (type: string) =>
      rows.filter((row) => row.type === type).map(({ user_id, details }) => ({ user_id, details }))
    t.same(of('email.verification_requested'), [{ user_id: userId, details: null }])
    t.same(of('email.verified'), [{ user_id: userId, details: null }])
    t.same(of('password.reset_requested'), [
      { user_id: null, details: { unknownAddress: true } },
      { user_id: userId, details: { sent: true } },
    ])
    t.same(of('password.reset'), [{ user_id: userId, details: null }])
    t.match(of('session.revoked'), [{ user_id: userId, details: { reason: 'password_reset' } }])
    t.same(of('sign_in_code.requested'), [{ user_id: userId, details: { sent: true } }])
    t.same(of('sign_in_code.failed'), [{ user_id: userId, details: null }])
    t.match(of('login.succeeded'), [{ user_id: userId, details: { method: 'code' } }])
    t.same(of('email.change_requested'), [{ user_id: userId, details: { sent: true } }])
    t.same(of('email.changed'), [
      { user_id: userId, details: { from: 'example.com', to: 'example.com' } },
    ])
    t.same(
      of('link.failed'),
      [
        { user_id: null, details: { purpose: 'verify_email' } },
        { user_id: null, details: { purpose: 'reset_password' } },
        { user_id: null, details: { purpose: 'change_email' } },
      ],
      'a link that opens nothing is audited by its purpose',
    )
    t.same(of('account.deleted'), [{ user_id: userId, details: null }])
    const trail = JSON.stringify(rows)
    t.same(
      secrets.filter((secret) => trail.includes(secret)),
      [],
      'no token, code or password in the trail',
    )
  }),
)
