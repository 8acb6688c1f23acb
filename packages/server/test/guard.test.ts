// sessionGuard(): plain Fastify routes with the verdicts of protectedProcedure.
import { openTestDatabase } from '@breakwater/db/testing'
import t from 'tap'
import { sessionGuard } from '../src/index.js'
import {
  Client,
  manualClock,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

const database = await openTestDatabase('pglite')
t.teardown(() => database.close())
const clock = manualClock()
const server = await startServer(
  database,
  { clock: clock.read, accessTokenTtl: '5m', loginIpLimit: '1000/1m' },
  (app) => {
    app.get('/files/report', { preHandler: sessionGuard() }, async (request) => ({
      owner: request.breakwaterSession?.userId,
    }))
    app.post('/files/report', { preHandler: sessionGuard() }, async (request) => ({
      wrote: request.breakwaterSession?.userId,
    }))
    app.get('/welcome', { preHandler: sessionGuard({ optional: true }) }, async (request) => ({
      signedIn: request.breakwaterSession !== null,
    }))
  },
)
t.teardown(server.close)

const get = (path: string, headers: Record<string, string> = {}) =>
  new Client(server.url).request('GET', path, { headers })

t.test('a plain route answers like a protected procedure', async (t) => {
  const missing = await get('/files/report')
  t.same([missing.status, missing.reason], [401, 'TOKEN_MISSING'])
  const forged = await get('/files/report', { authorization: 'Bearer not.a.token' })
  t.same([forged.status, forged.reason], [401, 'TOKEN_INVALID'])

  const { tokens, result, client } = await registerBearer(server.url, uniqueEmail('guard'))
  const allowed = await get('/files/report', { authorization: `Bearer ${tokens.accessToken}` })
  t.equal(allowed.status, 200)
  t.same(allowed.body, { owner: result.user.id }, 'the handler sees the verified session')

  clock.advance(6 * 60)
  const expired = await get('/files/report', { authorization: `Bearer ${tokens.accessToken}` })
  t.same([expired.status, expired.reason], [401, 'TOKEN_EXPIRED'])
  clock.advance(-6 * 60)

  await client.mutation('auth.logout')
  const revoked = await get('/files/report', { authorization: `Bearer ${tokens.accessToken}` })
  t.same([revoked.status, revoked.reason], [401, 'SESSION_REVOKED'], 'revocation reaches it too')
})

t.test('cookies: unsafe methods need the CSRF proof, safe ones do not', async (t) => {
  const browser = new Client(server.url)
  await browser.mutation('auth.register', { email: uniqueEmail('guard'), password: PASSWORD })
  t.equal((await browser.request('GET', '/files/report')).status, 200, 'GET with the cookie')
  const forged = await browser.request('POST', '/files/report', {
    headers: { origin: 'http://evil.localtest:8080' },
  })
  t.same([forged.status, forged.reason], [403, 'CSRF_REJECTED'])
  const proven = await browser.request('POST', '/files/report', {
    headers: { 'x-breakwater-csrf': '1' },
  })
  t.equal(proven.status, 200, 'with the header it passes')
})

t.test('optional: no token passes as signed out; a bad one is still refused', async (t) => {
  const anonymous = await get('/welcome')
  t.same([anonymous.status, anonymous.body], [200, { signedIn: false }])
  const { tokens } = await registerBearer(server.url, uniqueEmail('guard'))
  const known = await get('/welcome', { authorization: `Bearer ${tokens.accessToken}` })
  t.same(known.body, { signedIn: true })
  const bad = await get('/welcome', { authorization: 'Bearer not.a.token' })
  t.same([bad.status, bad.reason], [401, 'TOKEN_INVALID'], 'so the client knows to sign in again')
})
