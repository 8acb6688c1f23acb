// SPEC §9: how a mailed link is made. A team's own templates (through the public entry),
// and links built from PUBLIC_URL or the server's own address, never a request's Host.
import { request } from 'node:http'
import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import {
  DEFAULT_TEMPLATES,
  escapeHtml,
  type MailContent,
  type MailContext,
  type MailTemplates,
} from '../src/index.js'
import { Client, PASSWORD, startServer, uniqueEmail } from './helpers.js'
import { codeIn, linkToken, nthMail, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'
const NEW_PASSWORD = 'an even sturdier passphrase 43'
const HOSTILE = 'evil.example'

/** A team's templates, written against the exported types and helpers only. */
const templates: Partial<MailTemplates> = {
  resetPassword: (context: MailContext): MailContent => ({
    subject: `Acme wants to know: new password for ${context.email}?`,
    text: `Dear ${context.displayName ?? 'customer'},\nfollow ${context.link} within ${context.minutes} min.\n`,
    html: `<h1>Dear ${escapeHtml(context.displayName ?? 'customer')}</h1><a href="${escapeHtml(context.link ?? '')}">Pick a new password</a>`,
  }),
  // Breakwater's own mail with the team's signature under it.
  verifyEmail: (context: MailContext): MailContent => {
    const mail = DEFAULT_TEMPLATES.verifyEmail(context)
    return { ...mail, text: `${mail.text}\n-- The Acme team\n` }
  },
}

t.test("a team's templates: their subject, text and HTML arrive through SMTP", (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const server = await startServer(database, {
      publicUrl: PUBLIC_URL,
      mailLimit: '10/15m',
      mail: { smtpUrl: smtp.url, appName: 'Acme', templates },
    })
    t.teardown(server.close)
    const email = uniqueEmail('templated').toLowerCase()
    const name = '<img src=x onerror=alert(1)> & "Ada"'
    const signUp = await new Client(server.url).mutation<{ tokens: { accessToken: string } }>(
      'auth.register',
      { email, password: PASSWORD, displayName: name, transport: 'bearer' },
    )
    t.equal(signUp.status, 200)
    const anonymous = new Client(server.url)

    await anonymous.mutation('auth.requestPasswordReset', { email })
    const reset = await nthMail(smtp.received, 1)
    t.equal(reset.subject, `Acme wants to know: new password for ${email}?`, "the team's subject")
    t.match(reset.text, `Dear ${name},\nfollow ${PUBLIC_URL}/reset-password?token=`, 'its text')
    t.match(reset.text, 'within 30 min.', 'given the lifetime')
    const html = String(reset.html)
    t.match(html, '<h1>Dear &lt;img src=x onerror=alert(1)&gt; &amp; &quot;Ada&quot;</h1>')
    t.notMatch(html, '<img', 'the name escaped by the exported helper')
    const token = linkToken(reset, PUBLIC_URL, 'reset-password')
    t.match(
      html,
      `<a href="${PUBLIC_URL}/reset-password?token=${token}">`,
      'the link from PUBLIC_URL',
    )
    const used = await anonymous.mutation('auth.resetPassword', {
      token,
      newPassword: NEW_PASSWORD,
    })
    t.equal(used.status, 200, "the team's mail carries a working link")

    const login = await anonymous.mutation<{ tokens: { accessToken: string } }>('auth.login', {
      email,
      password: NEW_PASSWORD,
      transport: 'bearer',
    })
    const signedIn = new Client(server.url)
    signedIn.bearer = login.data.tokens.accessToken
    await signedIn.mutation('auth.requestEmailVerification')
    const verify = await nthMail(smtp.received, 2)
    t.equal(verify.subject, 'Acme: confirm your email address', "Breakwater's subject kept")
    t.match(verify.text, /\n-- The Acme team\n$/, "with the team's signature")
    t.equal(
      (
        await anonymous.mutation('auth.verifyEmail', {
          token: linkToken(verify, PUBLIC_URL, 'verify-email'),
        })
      ).status,
      200,
    )

    await anonymous.mutation('auth.requestSignInCode', { email })
    const code = await nthMail(smtp.received, 3)
    t.equal(code.subject, 'Acme: your sign-in code', 'a template not replaced is the default')
    t.match(codeIn(code), /^\d{6}$/)
  }),
)

/** A POST over plain node:http, so the Host header is exactly what an attacker sends. */
function postWithHost(url: string, procedure: string, input: unknown): Promise<number> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `/trpc/${procedure}`,
        method: 'POST',
        headers: {
          host: HOSTILE,
          'x-forwarded-host': HOSTILE,
          'x-forwarded-proto': 'https',
          'content-type': 'application/json',
        },
      },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify(input))
  })
}

t.test('host-header poisoning: a reset link never points at the Host a request names', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    // trustProxy: Fastify itself believes X-Forwarded-Host; the links still must not.
    const configured = await startServer(
      database,
      { publicUrl: PUBLIC_URL, mail: { smtpUrl: smtp.url } },
      undefined,
      { trustProxy: true },
    )
    t.teardown(configured.close)
    const unset = await startServer(database, { mail: { smtpUrl: smtp.url } }, undefined, {
      trustProxy: true,
    })
    t.teardown(unset.close)

    let mails = 0
    for (const [server, base] of [
      [configured, PUBLIC_URL],
      [unset, unset.url],
    ] as const) {
      const email = uniqueEmail('poisoned').toLowerCase()
      await new Client(server.url).mutation('auth.register', { email, password: PASSWORD })
      const status = await postWithHost(server.url, 'auth.requestPasswordReset', { email })
      t.equal(status, 200, `answered (${base})`)
      const mail = await nthMail(smtp.received, ++mails)
      t.notMatch(mail.text, HOSTILE, `the text part names no hostile host (${base})`)
      t.notMatch(String(mail.html), HOSTILE, 'nor the HTML part')
      const token = linkToken(mail, base, 'reset-password')
      t.ok(
        String(mail.text).includes(`\n${base}/reset-password?token=${token}\n`),
        `the link is built from ${base === PUBLIC_URL ? 'PUBLIC_URL' : "the server's own address"}`,
      )
      const used = await new Client(server.url).mutation('auth.resetPassword', {
        token,
        newPassword: NEW_PASSWORD,
      })
      t.equal(used.status, 200, 'and it works')
    }
  }),
)
