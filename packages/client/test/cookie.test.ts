import type { BreakwaterRouter } from '@breakwater/server'
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
  sleep,
  startServer,
} from './helpers.js'

t.teardown(closeDatabase)

t.test(
  'cookie transport: CSRF header on mutations, refresh via the path-scoped cookie',
  async (t) => {
    const server = await startServer({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const browser = cookieJarFetch()
    const client = createBreakwaterClient<BreakwaterRouter>({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      refreshMargin: 0,
    })
    const login = await client.auth.login.mutate({ email, password: PASSWORD })
    t.notOk('tokens' in login, 'no token reaches the client')
    t.ok(
      browser.jar.has('bw_access') && browser.jar.has('bw_refresh'),
      'the server set both cookies',
    )
    t.equal(browser.jar.get('bw_refresh')?.path, '/trpc/auth.refresh')

    await sleep(2100)
    const results = await Promise.all(Array.from({ length: 10 }, () => client.auth.me.query()))
    t.ok(
      results.every((r) => r.user.email === email),
      'calls replayed after a cookie refresh',
    )
    t.equal(server.refreshes, 1, 'one refresh')

    const refresh = browser.sent.find((r) => r.path === '/trpc/auth.refresh')!
    t.equal(refresh.method, 'POST')
    t.equal(refresh.headers['x-breakwater-csrf'], '1', 'refresh carries the CSRF header')
    t.match(refresh.headers.cookie, /bw_refresh=/, 'refresh carries the refresh cookie')
    t.equal(refresh.credentials, 'include')
    const queries = browser.sent.filter((r) => r.path === '/trpc/auth.me')
    t.ok(
      queries.every((r) => !r.headers.cookie?.includes('bw_refresh')),
      'the refresh cookie never rides on ordinary calls',
    )
    t.ok(
      queries.every((r) => r.headers['x-breakwater-csrf'] === undefined),
      'queries need no CSRF header',
    )

    // A cookie-authenticated mutation: the server refuses it without the header, so success proves it was sent.
    const list = await client.sessions.list.query()
    const other = list.find((s) => !s.current)
    const mutation = await client.auth.logoutAll.mutate({ keepCurrent: true })
    t.ok(mutation.revoked >= (other ? 1 : 0))
    const logoutAll = browser.sent.find((r) => r.path === '/trpc/auth.logoutAll')!
    t.equal(logoutAll.headers['x-breakwater-csrf'], '1')

    await client.auth.logout.mutate()
    t.notOk(browser.jar.has('bw_access'), 'logout cleared the cookies')
  },
)

t.test('cookie transport: a refused refresh signs out once', async (t) => {
  const server = await startServer({ accessTokenTtl: 2 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const browser = cookieJarFetch()
  const expired: string[] = []
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'cookie',
    fetch: browser.fetch,
    refreshMargin: 0,
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  const { session } = await client.auth.me.query()
  // End the session from elsewhere (a bearer login of the same user revokes it).
  const other = await fetch(`${server.url}/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  })
  const { result } = (await other.json()) as {
    result: { data: { tokens: { accessToken: string } } }
  }
  await fetch(`${server.url}/sessions.revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${result.data.tokens.accessToken}`,
    },
    body: JSON.stringify({ sessionId: session.id }),
  })
  await sleep(2100)
  const settled = await Promise.allSettled([client.auth.me.query(), client.sessions.list.query()])
  t.ok(settled.every((r) => r.status === 'rejected' && r.reason instanceof SessionExpiredError))
  t.same(expired, ['SESSION_REVOKED'])
  t.equal(server.refreshes, 1)
})

t.test(
  'two clients on one BroadcastChannel: one refresh serves both; sign-out propagates',
  async (t) => {
    const server = await startServer({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    // Two tabs of one browser: one cookie jar, one channel.
    const browser = cookieJarFetch()
    const channel = `test-${process.pid}-${Date.now()}`
    const expired: Record<'a' | 'b', string[]> = { a: [], b: [] }
    const tab = (name: 'a' | 'b') => {
      const auth = createBreakwaterAuth({
        url: server.url,
        transport: 'cookie',
        fetch: browser.fetch,
        refreshMargin: 0,
        coordination: { channel },
        onSessionExpired: ({ reason }) => expired[name].push(reason),
      })
      t.teardown(() => auth.close())
      return { auth, client: createBreakwaterClient<BreakwaterRouter>({ auth }) }
    }
    const a = tab('a')
    const b = tab('b')
    await a.client.auth.login.mutate({ email, password: PASSWORD })
    await sleep(2100)
    const [ra, rb] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => a.client.auth.me.query())),
      Promise.all(Array.from({ length: 5 }, () => b.client.auth.me.query())),
    ])
    t.equal(ra.length + rb.length, 10, 'both tabs succeed')
    t.equal(server.refreshes, 1, 'one refresh served both tabs')

    // Again, with both tabs expiring at once a second time.
    await sleep(2100)
    await Promise.all([b.client.auth.me.query(), a.client.auth.me.query()])
    t.equal(server.refreshes, 2, 'again one refresh for both')

    await a.client.auth.logout.mutate()
    await sleep(50)
    t.same(expired.b, ['LOGGED_OUT'], 'the peer tab signed out too')
    t.same(expired.a, [], 'the tab that logged out is not told it expired')
    t.equal(b.auth.state, 'signed-out')
    const error = await b.client.auth.me.query().catch((e: unknown) => e)
    t.equal(readReason(error), 'TOKEN_MISSING')
    t.equal(server.refreshes, 2, 'a signed-out tab does not try to refresh')
  },
)
