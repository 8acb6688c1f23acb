// SPEC §3: "No input, token or header ever yields a 500". Arbitrary values,
// shaped like each procedure's input or not, thrown at every procedure.
import { openTestDatabase } from '@breakwater/db/testing'
import fc from 'fast-check'
import t from 'tap'
import { Client, registerBearer, startServer } from './helpers.js'

const MUTATIONS = [
  'auth.register',
  'auth.login',
  'auth.refresh',
  'auth.logout',
  'auth.logoutAll',
  'auth.changePassword',
  'auth.requestEmailVerification',
  'auth.verifyEmail',
  'auth.requestPasswordReset',
  'auth.resetPassword',
  'auth.requestEmailChange',
  'auth.confirmEmailChange',
  'auth.requestSignInCode',
  'auth.signInWithCode',
  'auth.deleteAccount',
  'sessions.revoke',
] as const
const QUERIES = ['auth.me', 'sessions.list'] as const

// Strings with every kind of code unit: NUL, lone surrogates, control and fullwidth characters.
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000@example.com', '\ud800', '../../etc/passwd', '{"a":1}', ''),
)
const emailLike = fc.oneof(
  hostileString,
  fc.tuple(hostileString, hostileString).map(([local, domain]) => `${local}@${domain}.com`),
)
const shaped = fc.record(
  {
    email: emailLike,
    password: hostileString,
    displayName: hostileString,
    transport: fc.oneof(fc.constantFrom('cookie', 'bearer'), hostileString),
    refreshToken: hostileString,
    keepCurrent: fc.anything(),
    currentPassword: hostileString,
    newPassword: hostileString,
    sessionId: hostileString,
    newEmail: emailLike,
    token: hostileString,
    code: fc.oneof(fc.stringMatching(/^\d{6}$/), hostileString),
  },
  { requiredKeys: [] },
)
const anyInput = fc.oneof(shaped, fc.jsonValue(), fc.anything())

t.test('arbitrary input to every procedure: never a 5xx', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await startServer(database, {
    loginIpLimit: '100000/1m',
    loginAccountLimit: '100000/1m',
  })
  t.teardown(server.close)
  const { tokens } = await registerBearer(server.url)
  const statuses = new Map<number, number>()

  for (const procedure of [...MUTATIONS, ...QUERIES]) {
    await fc.assert(
      fc.asyncProperty(anyInput, fc.boolean(), async (input, authenticated) => {
        const client = new Client(server.url)
        if (authenticated) client.bearer = tokens.accessToken
        let body: string | undefined
        try {
          body = JSON.stringify(input)
        } catch {
          return // BigInt and cycles have no JSON form: nothing to send.
        }
        const reply = (QUERIES as readonly string[]).includes(procedure)
          ? await client.query(procedure, input)
          : await client.request('POST', `/trpc/${procedure}`, {
              body,
              headers: { 'content-type': 'application/json' },
            })
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
        return reply.status < 500
      }),
      { numRuns: 40, seed: 20261201 },
    )
  }
  t.ok(statuses.size > 1, `answers: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.notOk(
    [...statuses.keys()].some((status) => status >= 500),
    'no 5xx among them',
  )
})
