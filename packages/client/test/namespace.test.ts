// Issue #12, SPEC §8: Breakwater's router under a team's router key and an
// endpoint prefix of its own (`/api/account.auth.refresh`), bearer transport.
// The cookie transport's twin is namespace-cookie.test.ts.

import { breakwaterRouter, protectedProcedure, router } from '@breakwater/server'
import t from 'tap'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  memoryTokenStore,
  readReason,
} from '../src/index.js'
import {
  closeDatabase,
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

const PREFIX = '/api'
const REFRESH = '/api/account.auth.refresh'

t.test('namespace option: checked once, with a clear error', async (t) => {
  for (const bad of [
    '',
    'account.',
    '.account',
    'v1..account',
    'my-account',
    'account.auth.',
    42,
  ]) {
    t.throws(
      () => createBreakwaterAuth({ url: '/api', transport: 'bearer', namespace: bad as never }),
      { name: 'TypeError', message: /@breakwater\/client: namespace must be .*"account"/ },
      `refuses ${JSON.stringify(bad)}`,
    )
  }
  const nested = createBreakwaterAuth({ url: '/api', transport: 'bearer', namespace: 'v1.account' })
  t.equal(nested.paths.refresh, 'v1.account.auth.refresh')
  t.equal(nested.paths.listSessions, 'v1.account.sessions.list')
  const root = createBreakwaterAuth({ url: '/trpc', transport: 'bearer' })
  t.equal(root.paths.login, 'auth.login', 'no namespace: the procedures at the root')
})

t.test(
  'bearer under a router key: login, one refresh through account.auth.refresh, logout',
  async (t) => {
    const refreshAuthorization: Array<string | undefined> = []
    const server = await startServer(
      { router: appRouter, prefix: PREFIX, accessTokenTtl: 2 },
      0,
      (app) =>
        app.addHook('onRequest', async (request) => {
          if (request.url === REFRESH) refreshAuthorization.push(request.headers.authorization)
        }),
    )
    t.teardown(() => server.close())
    const email = await registerUser(server.url, undefined, 'account')
    const store = memoryTokenStore()
    const client = createBreakwaterClient<AppRouter>({
      url: server.url,
      transport: 'bearer',
      namespace: 'account',
      store,
      // Never due on the client's clock: the server must answer TOKEN_EXPIRED.
      clock: testClock(),
    })

    const login = signedIn(await client.account.auth.login.mutate({ email, password: PASSWORD }))
    t.ok(login.tokens, 'the client asked account.auth.login for bearer tokens')
    t.equal((await store.get())?.accessToken, login.tokens?.accessToken, 'and stored them')
    t.equal(
      (await client.notes.mine.query()).owner,
      login.user.id,
      "the team's procedure is authorized",
    )

    await untilExpired(login.session.accessTokenExpiresAt)
    const before = server.paths.length
    const [me, ...notes] = await Promise.all([
      client.account.auth.me.query(),
      ...Array.from({ length: 4 }, () => client.notes.mine.query()),
    ])
    t.equal(me.user.email, email)
    t.ok(
      notes.every((note) => note.owner === login.user.id),
      'all calls succeed after the refresh',
    )
    t.equal(server.refreshes, 1, 'one refresh for five expired calls')
    const seen = server.paths.slice(before)
    t.same(
      seen.filter((path) => path === REFRESH),
      [REFRESH],
      'through the namespaced path under the prefix',
    )
    t.equal(seen.length, 11, 'each call failed once and was replayed once')
    t.same(refreshAuthorization, [undefined], 'the refresh token travels in the body only')
    t.not((await store.get())?.refreshToken, login.tokens?.refreshToken, 'the token rotated')

    await client.account.auth.logout.mutate()
    t.equal(await store.get(), null, 'account.auth.logout forgot the tokens')
    const error = await client.notes.mine.query().catch((e: unknown) => e)
    // After a logout the client says so in its typed error; the server's answer is the cause.
    t.equal(readReason(error), 'LOGGED_OUT')
    t.equal(readReason((error as Error).cause), 'TOKEN_MISSING')
    t.equal(server.refreshes, 1, 'no refresh after logout')
  },
)

t.test('bearer under a router key: TOKEN_MISSING', async (t) => {
  let strip = false
  // A proxy that drops Authorization once: the server answers TOKEN_MISSING
  // although the client holds tokens.
  const server = await startServer({ router: appRouter, prefix: PREFIX }, 0, (app) =>
    app.addHook('onRequest', async (request) => {
      if (strip && request.url === '/api/notes.mine') {
        strip = false
        delete request.headers.authorization
      }
    }),
  )
  t.teardown(() => server.close())
  const email = await registerUser(server.url, undefined, 'account')

  t.test('without tokens the call fails plainly, without refresh', async (t) => {
    const client = createBreakwaterClient<AppRouter>({
      url: server.url,
      transport: 'bearer',
      namespace: 'account',
    })
    const before = server.paths.length
    const error = await client.notes.mine.query().catch((e: unknown) => e)
    t.equal(readReason(error), 'TOKEN_MISSING')
    t.same(server.paths.slice(before), ['/api/notes.mine'], 'one request, no refresh')
  })

  t.test('a stored refresh token without an access token: refresh first', async (t) => {
    const seed = createBreakwaterClient<AppRouter>({
      url: server.url,
      transport: 'bearer',
      namespace: 'account',
    })
    const { tokens } = signedIn(await seed.account.auth.login.mutate({ email, password: PASSWORD }))
    const store = memoryTokenStore({ ...tokens!, accessToken: '', accessTokenExpiresAt: '' })
    const client = createBreakwaterClient<AppRouter>({
      url: server.url,
      transport: 'bearer',
      namespace: 'account',
      store,
    })
    const before = server.paths.length
    const me = await client.account.auth.me.query()
    t.equal(me.user.email, email)
    t.same(server.paths.slice(before), [REFRESH, '/api/account.auth.me'])
  })

  t.test('an access token lost on the way: one refresh, one replay', async (t) => {
    const store = memoryTokenStore()
    const client = createBreakwaterClient<AppRouter>({
      url: server.url,
      transport: 'bearer',
      namespace: 'account',
      store,
    })
    const login = signedIn(await client.account.auth.login.mutate({ email, password: PASSWORD }))
    strip = true
    const before = server.paths.length
    t.equal((await client.notes.mine.query()).owner, login.user.id)
    t.same(server.paths.slice(before), ['/api/notes.mine', REFRESH, '/api/notes.mine'])
    t.not((await store.get())?.refreshToken, login.tokens?.refreshToken, 'the token rotated')
  })
})
