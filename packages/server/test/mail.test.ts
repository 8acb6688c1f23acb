import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { type ParsedMail, simpleParser } from 'mailparser'
import t from 'tap'
import { Mailer, outboxTransport, smtpTransport } from '../src/mail/mailer.js'
import { DEFAULT_TEMPLATES } from '../src/mail/templates.js'
import { startSmtpServer } from './smtp.js'

function capturedLog() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  return { lines, log: Fastify({ logger: { level: 'info', stream } }).log }
}

const TOKEN = 'sEcReTtOkEn-0123456789abcdefghij'
const link = `http://127.0.0.1:3000/verify?token=${TOKEN}`

t.test('SMTP: text and HTML parts, the display name escaped in HTML', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const { lines, log } = capturedLog()
  const mailer = new Mailer({
    transport: smtpTransport(smtp.url),
    from: 'Breakwater <no-reply@example.com>',
    log,
  })
  t.teardown(() => mailer.close())
  const content = DEFAULT_TEMPLATES.verifyEmail({
    appName: 'Breakwater',
    email: 'ada@example.com',
    displayName: '<script>alert(1)</script> & "Ada"',
    link,
    minutes: 1440,
  })
  mailer.send({ ...content, to: 'ada@example.com', purpose: 'verify_email' })
  await mailer.idle()
  t.equal(smtp.received.length, 1)
  const mail = smtp.received[0] as ParsedMail
  t.equal(mail.subject, 'Breakwater: confirm your email address')
  t.equal(mail.from?.value[0]?.address, 'no-reply@example.com')
  t.match(mail.text, link, 'the link in the text part')
  t.match(mail.text, '<script>alert(1)</script>', 'the text part shows the name as typed')
  const html = String(mail.html)
  t.match(html, `href="${link}"`, 'the link in the HTML part')
  t.notMatch(html, '<script>', 'no markup from the name')
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ada&quot;')
  t.notOk(lines.join('').includes(TOKEN), 'the log never holds the token')
})

t.test('a failed send is retried with backoff, and the request never sees it', async (t) => {
  const smtp = await startSmtpServer(2)
  t.teardown(smtp.close)
  const { lines, log } = capturedLog()
  const mailer = new Mailer({
    transport: smtpTransport(smtp.url),
    from: 'no-reply@example.com',
    log,
    backoffMs: [20, 40, 80],
  })
  t.teardown(() => mailer.close())
  const content = DEFAULT_TEMPLATES.signInCode({
    appName: 'Breakwater',
    email: 'ada@example.com',
    displayName: null,
    code: '123456',
    minutes: 10,
  })
  t.doesNotThrow(() => mailer.send({ ...content, to: 'ada@example.com', purpose: 'sign_in_code' }))
  await mailer.idle()
  t.equal(smtp.received.length, 1, 'delivered on the third attempt')
  t.equal(lines.filter((line) => line.includes('will retry')).length, 2)
  t.notOk(lines.join('').includes('123456'), 'the code is never logged')
})

t.test('an unreachable server: bounded retries, then one line giving up', async (t) => {
  const smtp = await startSmtpServer()
  await smtp.close()
  const { lines, log } = capturedLog()
  const mailer = new Mailer({
    transport: smtpTransport(smtp.url),
    from: 'no-reply@example.com',
    log,
    backoffMs: [10, 10],
  })
  t.teardown(() => mailer.close())
  mailer.send({
    subject: 's',
    text: 't',
    html: 'h',
    to: 'ada@example.com',
    purpose: 'reset_password',
  })
  await mailer.idle()
  t.equal(lines.filter((line) => line.includes('mail not sent')).length, 3, 'three attempts')
  t.match(lines.at(-1), /giving up/)
})

t.test('no SMTP: the outbox, private files, the log names the file only', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'breakwater-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const outbox = path.join(dir, 'outbox')
  const { lines, log } = capturedLog()
  const mailer = new Mailer({
    transport: outboxTransport(outbox),
    from: 'no-reply@example.com',
    log,
  })
  t.teardown(() => mailer.close())
  const content = DEFAULT_TEMPLATES.resetPassword({
    appName: 'Breakwater',
    email: 'ada@example.com',
    displayName: 'Ada',
    link,
    minutes: 30,
  })
  mailer.send({ ...content, to: 'ada@example.com', purpose: 'reset_password' })
  await mailer.idle()
  const files = readdirSync(outbox)
  t.equal(files.length, 1)
  const file = path.join(outbox, files[0] as string)
  t.equal(statSync(outbox).mode & 0o777, 0o700, 'the folder is private')
  t.equal(statSync(file).mode & 0o777, 0o600, 'the file is private')
  const parsed = await simpleParser(readFileSync(file))
  t.match(parsed.text, link, 'the developer finds the link in the file')
  const logged = lines.join('')
  t.match(logged, files[0] as string, 'the log names the file')
  t.notOk(logged.includes(TOKEN), 'and never the token')
})
