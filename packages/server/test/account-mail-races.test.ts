// SPEC §9: a reset racing an old-password login; no token in the database files.
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createDatabase } from '@breakwater/db'
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
import { linkToken, nthMail, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'

/** A new address as the server stores it (domain in lower case), to compare with mail and `me`. */
const freshEmail = (prefix: string) => uniqueEmail(prefix).toLowerCase()

t.test('a password reset racing a login with the old password: the login does not survive', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const smtp = await startSmtpServer()
    t.teardown(smtp.close)
    const server = await startServer(database, {
      publicUrl: PUBLIC_URL,
      loginIpLimit: '1000/1m',
      mail: { smtpUrl: smtp.url },
    })
    t.teardown(server.close)
    let survivors = 0
    let oldPasswordLogins = 0
    for (let trial = 0; trial < 4; trial++) {
      const { email } = await registerBearer(server.url, freshEmail('reset-race'))
      await new Client(server.url).mutation('auth.requestPasswordReset', { email })
      const token = linkToken(await nthMail(smtp.received, trial + 1), PUBLIC_URL, 'reset-password')
      const logins = Array.from({ length: 3 }, () =>
        new Client(server.url).mutation<AuthResult>('auth.login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        }),
      )
      const reset = new Client(server.url).mutation('auth.resetPassword', {
        token,
        newPassword: `a brand new passphrase ${trial}`,
      })
      const [done, ...results] = await Promise.all([reset, ...logins])
      t.equal(done?.status, 200, `trial ${trial}: reset`)
      for (const login of results) {
        if (login.status !== 200) continue
        oldPasswordLogins++
        const refreshed = await new Client(server.url).mutation('auth.refresh', {
          refreshToken: login.data.tokens!.refreshToken,
        })
        if (refreshed.status === 200) survivors++
      }
    }
    t.equal(survivors, 0, `none of ${oldPasswordLogins} old-password sessions can refresh`)
  }),
)

t.test('no link token or code in the database files', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'breakwater-files-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const database = await createDatabase(undefined, { dataDir })
  const server = await startServer(database, {
    publicUrl: PUBLIC_URL,
    mailLimit: '10/15m',
    mail: { smtpUrl: smtp.url },
  })
  const owner = await registerBearer(server.url, freshEmail('files'))
  const anonymous = new Client(server.url)
  await owner.client.mutation('auth.requestEmailVerification')
  await anonymous.mutation('auth.requestPasswordReset', { email: owner.email })
  await anonymous.mutation('auth.requestSignInCode', { email: owner.email })
  await owner.client.mutation('auth.requestEmailChange', {
    newEmail: freshEmail('files-new'),
    currentPassword: PASSWORD,
  })
  await nthMail(smtp.received, 5)
  const secrets = smtp.received.map((mail) => {
    const link = /token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '')
    return link ? (link[1] as string) : /code is (\d{6})\./.exec(mail.text ?? '')?.[1]
  })
  const tokens = secrets.filter((value): value is string => value !== undefined)
  t.equal(tokens.length, 4, 'three links and a code were mailed')
  // One of them used, so the table has seen an update as well as inserts.
  await anonymous.mutation('auth.verifyEmail', { token: tokens[0] })
  await server.close()
  await database.close()
  const files = readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dataDir, name))
    .filter((file) => {
      try {
        return readFileSync(file).length >= 0
      } catch {
        return false
      }
    })
  t.ok(files.length > 10, `${files.length} database files read`)
  const leaked = tokens.filter((token) =>
    files.some((file) => readFileSync(file).includes(Buffer.from(token))),
  )
  // A 6-digit code may occur in binary data by chance; the links are 43 characters.
  t.same(
    leaked.filter((token) => token.length > 6),
    [],
    'no link token in any file',
  )
})
