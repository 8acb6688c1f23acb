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
  signedIn,
  startServer,
  testClock,
  untilExpired,
} from './helpers.js'

t.teardown(closeDatabase)

/** What each settled call came to: its reason when it rejected with SessionExpiredError. */
function outcomes(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((r) =>
    r.status === 'rejected' && r.reason instanceof SessionExpiredError
      ? `SessionExpiredError ${r.reason.reason}`
      : r.status,
  )
}

t.test(
  'cookie transport: an expired access cookie is refreshed once for 10 calls, via the path-scoped cookie',
  async (t) => {
    const server = await startServer({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const browser = cookieJarFetch()
    const client = createBreakwaterClient<BreakwaterRouter>({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      // Never due on the client's clock: the server must say TOKEN_EXPIRED.
      clock: testClock(),
    })
    const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
    t.notOk('tokens' in login, 'no token reaches the client')
    t.ok(
      browser.jar.has('bw_access') && browser.jar.has('bw_refresh'),
      'the server set both cookies',
    )
    t.equal(browser.jar.get('bw_refresh')?.path, '/trpc/auth.refresh')
    const lifetime = (name: string) => (browser.jar.get(name)?.expiresAt ?? 0) - Date.now()
    t.ok(
      Math.abs(lifetime('bw_access') - lifetime('bw_refresh')) < 1000,
      'the access cookie lives as long as the refresh cookie (SPEC §5), not as long as its token',
    )

    await untilExpired(login.session.accessTokenExpiresAt)
    const sentBefore = browser.sent.length
    const results = await Promise.all(Array.from({ length: 10 }, () => client.auth.me.query()))
    t.match(
      browser.sent[sentBefore]?.headers.cookie,
      /bw_access=/,
      'the expired token still went out in its cookie, so the server could say TOKEN_EXPIRED',
    )
    t.ok(
      results.every((r) => r.user.email === email),
      'calls replayed after a cookie refresh',
    )
    t.equal(server.refreshes, 1, 'one refresh')
    const queries = browser.sent.slice(sentBefore).filter((r) => r.path === '/trpc/auth.me')
    t.equal(queries.length, 20, 'each call failed once (TOKEN_EXPIRED) and was replayed once')

    const refresh = browser.sent.find((r) => r.path === '/trpc/auth.refresh')!
    t.equal(refresh.method, 'POST')
    t.equal(refresh.headers['x-breakwater-csrf'], '1', 'refresh carries the CSRF header')
    t.match(refresh.headers.cookie, /bw_refresh=/, 'refresh carries the refresh cookie')
    t.equal(refresh.credentials, 'include')
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
    t.equal(list.length, 2, 'the registration (bearer) and this login')
    const mutation = await client.auth.logoutAll.mutate({ keepCurrent: true })
    t.equal(mutation.revoked, 1, 'the other session was revoked')
    const logoutAll = browser.sent.find((r) => r.path === '/trpc/auth.logoutAll')!
    t.equal(logoutAll.headers['x-breakwater-csrf'], '1')

    await client.auth.logout.mutate()
    t.notOk(browser.jar.has('bw_access'), 'logout cleared the cookies')
  },
)

t.test('cookie transport: no session cookie means signed out, without a refresh', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)

  t.test('a first visit: every call rejects, nothing announced', async (t) => {
    const browser = cookieJarFetch()
    const expired: string[] = []
    const auth = createBreakwaterAuth({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      onSessionExpired: ({ reason }) => expired.push(reason),
    })
    const client = createBreakwaterClient<BreakwaterRouter>({ auth })
    const before = { refreshes: server.refreshes, paths: server.paths.length }
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.auth.me.query()),
    )
    t.same(
      outcomes(settled),
      Array.from({ length: 5 }, () => 'SessionExpiredError REFRESH_MISSING'),
      'signed out, as a refused refresh would be',
    )
    const causes = settled.map((r) =>
      r.status === 'rejected' ? readReason((r.reason as Error).cause) : undefined,
    )
    t.ok(causes.includes('TOKEN_MISSING'), 'what the server said is kept as the cause')
    t.equal(server.refreshes - before.refreshes, 0, 'no auth.refresh request')
    t.same(
      server.paths.slice(before.paths),
      Array.from({ length: 5 }, () => '/trpc/auth.me'),
      'each call went out once, none replayed',
    )
    t.same(expired, [], 'a first visit is no expiry to announce')
    t.equal(auth.state, 'signed-out')

    await t.rejects(client.sessions.list.query())
    t.equal(server.refreshes - before.refreshes, 0, 'still no refresh')
  })

  t.test('a session whose cookies are gone: signed out once, no refresh', async (t) => {
    const browser = cookieJarFetch()
    const expired: string[] = []
    const auth = createBreakwaterAuth({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      onSessionExpired: ({ reason }) => expired.push(reason),
    })
    const client = createBreakwaterClient<BreakwaterRouter>({ auth })
    await client.auth.login.mutate({ email, password: PASSWORD })
    t.equal(auth.state, 'signed-in')
    // Cleared by the user, or by a logout this client did not hear of.
    browser.jar.clear()
    const before = server.refreshes
    const settled = await Promise.allSettled([
      client.auth.me.query(),
      client.sessions.list.query(),
      client.auth.me.query(),
    ])
    t.same(outcomes(settled), [
      'SessionExpiredError REFRESH_MISSING',
      'SessionExpiredError REFRESH_MISSING',
      'SessionExpiredError REFRESH_MISSING',
    ])
    t.same(expired, ['REFRESH_MISSING'], 'onSessionExpired called exactly once')
    t.equal(server.refreshes - before, 0, 'no auth.refresh request')
    t.equal(auth.state, 'signed-out')
  })

  t.test('after logout: no refresh either', async (t) => {
    const browser = cookieJarFetch()
    const client = createBreakwaterClient<BreakwaterRouter>({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
    })
    await client.auth.login.mutate({ email, password: PASSWORD })
    await client.auth.logout.mutate()
    const before = server.refreshes
    const error = await client.auth.me.query().catch((e: unknown) => e)
    // After a logout the client says so in its typed error; the server's answer is the cause.
    t.equal(readReason(error), 'LOGGED_OUT')
    t.equal(readReason((error as Error).cause), 'TOKEN_MISSING')
    t.equal(server.refreshes - before, 0, 'no auth.refresh request')
  })
})

t.test('cookie transport: a refused refresh signs out once', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const browser = cookieJarFetch()
  const expired: string[] = []
  const clock = testClock()
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'cookie',
    fetch: browser.fetch,
    clock,
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
  const revoke = await fetch(`${server.url}/sessions.revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${result.data.tokens.accessToken}`,
    },
    body: JSON.stringify({ sessionId: session.id }),
  })
  t.equal(revoke.status, 200, 'revoked from elsewhere')
  // Due on the client's clock: the next calls refresh first, and the server refuses.
  clock.advanceTo(session.accessTokenExpiresAt)
  const settled = await Promise.allSettled([client.auth.me.query(), client.sessions.list.query()])
  t.same(outcomes(settled), [
    'SessionExpiredError SESSION_REVOKED',
    'SessionExpiredError SESSION_REVOKED',
  ])
  t.same(expired, ['SESSION_REVOKED'])
  t.equal(server.refreshes, 1)
})

t.test(
  'two clients on one BroadcastChannel: one refresh serves both; sign-out propagates',
  async (t) => {
    const server = await startServer({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    // Two tabs of one browser: one cookie jar, one channel, one clock.
    const browser = cookieJarFetch()
    const clock = testClock()
    const channel = `test-${process.pid}-${Date.now()}`
    const expired: Record<'a' | 'b', string[]> = { a: [], b: [] }
    let bSignedOut: () => void = () => {}
    const bSignedOutPromise = new Promise<void>((resolve) => {
      bSignedOut = resolve
    })
    const tab = (name: 'a' | 'b') => {
      const auth = createBreakwaterAuth({
        url: server.url,
        transport: 'cookie',
        fetch: browser.fetch,
        clock,
        // Node has no Web Locks: tabs claim and wait for rival claims. 30 ms (the
        // default) lost a rival's claim when a loaded runner held the event loop longer;
        // a window is only as good as the longest stall, so this one is generous.
        coordination: { channel, claimWindowMs: 1000 },
        onSessionExpired: ({ reason }) => {
          expired[name].push(reason)
          if (name === 'b') bSignedOut()
        },
      })
      t.teardown(() => auth.close())
      return { auth, client: createBreakwaterClient<BreakwaterRouter>({ auth }) }
    }
    const a = tab('a')
    const b = tab('b')
    const login = signedIn(await a.client.auth.login.mutate({ email, password: PASSWORD }))

    // Expired on the server, not yet due on the tabs' clock: every call fails once.
    await untilExpired(login.session.accessTokenExpiresAt)
    const [ra, rb] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => a.client.auth.me.query())),
      Promise.all(Array.from({ length: 5 }, () => b.client.auth.me.query())),
    ])
    t.ok(
      [...ra, ...rb].every((r) => r.user.email === email),
      'all 10 calls in both tabs succeed',
    )
    t.equal(server.refreshes, 1, 'one refresh served both tabs')

    const expiresAt = a.auth.accessTokenExpiresAt?.getTime()
    t.ok(expiresAt, 'tab a knows the new expiry')
    t.equal(b.auth.accessTokenExpiresAt?.getTime(), expiresAt, 'and so does tab b')

    // Again, both tabs due at once on their clock (a proactive refresh this
    // time): the claims of the first round must not linger.
    clock.advanceTo(expiresAt!)
    const before = server.paths.length
    await Promise.all([b.client.auth.me.query(), a.client.auth.me.query()])
    t.equal(server.refreshes, 2, 'again one refresh for both')
    t.same(
      server.paths.slice(before),
      ['/trpc/auth.refresh', '/trpc/auth.me', '/trpc/auth.me'],
      'refreshed before the calls',
    )

    await a.client.auth.logout.mutate()
    await bSignedOutPromise
    t.same(expired.b, ['LOGGED_OUT'], 'the peer tab signed out too')
    t.same(expired.a, [], 'the tab that logged out is not told it expired')
    t.equal(b.auth.state, 'signed-out')
    const error = await b.client.auth.me.query().catch((e: unknown) => e)
    // After a logout the client says so in its typed error; the server's answer is the cause.
    t.equal(readReason(error), 'LOGGED_OUT')
    t.equal(readReason((error as Error).cause), 'TOKEN_MISSING')
    t.equal(server.refreshes, 2, 'a signed-out tab does not try to refresh')
  },
)
