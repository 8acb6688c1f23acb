// Issue #12, SPEC §5 and §8: cookie transport with Breakwater's router under a
// team's router key and prefix. The refresh cookie is scoped to
// `/api/account.auth.refresh`, the path the client posts its refresh to: this
// needs a server that derives the cookie path from where the router is mounted
// (refreshPath(prefix, namespace)).

import { refreshPath } from '@breakwater/protocol'
import { breakwaterRouter, protectedProcedure, router } from '@breakwater/server'
import t from 'tap'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  readReason,
  SessionExpiredError,
} from '../src/index.js'
import {
  closeDatabase,
  cookieJarFetch,
  PASSWORD,
  registerUser,
  signedIn,
  startServer,
  testClock,
  untilExpired,
} from './helpers.js'

t.teardown(closeDatabase)

const appRouter = router({
  account: breakwaterRouter,
  notes: router({
    mine: protectedProcedure.query(({ ctx }) => ({ owner: ctx.session.userId })),
  }),
})
type AppRouter = typeof appRouter

const REFRESH = refreshPath('/api', 'account')

t.test('cookie under a router key: the refresh cookie, one refresh, sign-out', async (t) => {
  t.equal(REFRESH, '/api/account.auth.refresh')
  const server = await startServer({ router: appRouter, prefix: '/api', accessTokenTtl: 2 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url, undefined, 'account')
  const browser = cookieJarFetch()
  const expired: string[] = []
  const clock = testClock()
  const auth = createBreakwaterAuth({
    url: server.url,
    transport: 'cookie',
    namespace: 'account',
    fetch: browser.fetch,
    // Never due on the client's clock: the server must answer TOKEN_EXPIRED.
    clock,
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  const client = createBreakwaterClient<AppRouter>({ auth })

  const login = signedIn(await client.account.auth.login.mutate({ email, password: PASSWORD }))
  t.notOk('tokens' in login, 'no token reaches the client')
  t.equal(browser.jar.get('bw_refresh')?.path, REFRESH, 'the refresh cookie is scoped to its path')
  t.equal(
    auth.accessTokenExpiresAt?.toISOString(),
    login.session.accessTokenExpiresAt,
    'account.auth.login was recognised as a sign-in',
  )

  // A second tab of the same browser learns the session from account.auth.me.
  const peer = createBreakwaterAuth({
    url: server.url,
    transport: 'cookie',
    namespace: 'account',
    fetch: browser.fetch,
    clock,
  })
  const peerClient = createBreakwaterClient<AppRouter>({ auth: peer })
  t.equal(peer.state, 'unknown')
  await peerClient.account.auth.me.query()
  t.equal(peer.state, 'signed-in', 'account.auth.me tells the session')
  t.equal(peer.accessTokenExpiresAt?.toISOString(), login.session.accessTokenExpiresAt)

  await untilExpired(login.session.accessTokenExpiresAt)
  const sentBefore = browser.sent.length
  const results = await Promise.all(Array.from({ length: 5 }, () => client.notes.mine.query()))
  t.ok(
    results.every((note) => note.owner === login.user.id),
    'five expired calls succeed',
  )
  t.equal(server.refreshes, 1, 'after one refresh')
  const refreshes = browser.sent.slice(sentBefore).filter((r) => r.path === REFRESH)
  t.equal(refreshes.length, 1)
  t.match(refreshes[0]?.headers.cookie, /bw_refresh=/, 'carrying the path-scoped refresh cookie')
  t.equal(refreshes[0]?.headers['x-breakwater-csrf'], '1')
  t.ok(
    browser.sent
      .filter((r) => r.path !== REFRESH)
      .every((r) => !r.headers.cookie?.includes('bw_refresh=')),
    'the refresh cookie never rides on other calls',
  )

  await client.account.auth.logout.mutate()
  t.equal(auth.state, 'signed-out')
  t.notOk(browser.jar.has('bw_refresh'), 'account.auth.logout cleared the refresh cookie')
  t.same(expired, [], 'logging out is not an expiry')
  const error = await client.notes.mine.query().catch((e: unknown) => e)
  // After a logout the client says so in its typed error; the server's answer is the cause.
  t.equal(readReason(error), 'LOGGED_OUT')
  t.equal(readReason((error as Error).cause), 'TOKEN_MISSING')
  t.equal(server.refreshes, 1, 'no refresh after logout')
})

t.test('cookie under a router key: cookies gone means signed out, without a refresh', async (t) => {
  const server = await startServer({ router: appRouter, prefix: '/api' })
  t.teardown(() => server.close())
  const email = await registerUser(server.url, undefined, 'account')
  const browser = cookieJarFetch()
  const expired: string[] = []
  const client = createBreakwaterClient<AppRouter>({
    url: server.url,
    transport: 'cookie',
    namespace: 'account',
    fetch: browser.fetch,
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  await client.account.auth.login.mutate({ email, password: PASSWORD })
  browser.jar.clear()
  const error = await client.notes.mine.query().catch((e: unknown) => e)
  t.type(error, SessionExpiredError)
  t.equal(readReason(error), 'REFRESH_MISSING')
  t.same(expired, ['REFRESH_MISSING'])
  t.equal(server.refreshes, 0)
})
