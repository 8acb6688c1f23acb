// The live session (`live: true`) in Node, against a real server: the client's
// `sessions.watch` stream over fetch, with a cookie jar standing in for the
// browser. One client, one stream here (no tabs to share with: see
// live-browser.test.ts for Chromium).
import type { BreakwaterRouter } from '@breakwater/server'
import t from 'tap'
import {
  type BreakwaterAuth,
  createBreakwaterAuth,
  createBreakwaterClient,
  readReason,
  SessionExpiredError,
  type SessionExpiredEvent,
} from '../src/index.js'
import type { FetchLike } from '../src/wire.js'
import {
  closeDatabase,
  cookieJarFetch,
  PASSWORD,
  registerUser,
  signedIn,
  startServer,
  type TestServer,
  untilExpired,
} from './helpers.js'
import { type StreamSpy, sleep, spyOnStreams, until } from './live-support.js'

t.teardown(closeDatabase)

async function serverWithSpy(
  options: Parameters<typeof startServer>[0] = {},
  port = 0,
): Promise<{ server: TestServer; streams: StreamSpy }> {
  let streams: StreamSpy | undefined
  const server = await startServer(options, port, (app) => {
    streams = spyOnStreams(app)
  })
  return { server, streams: streams! }
}

/** A cookie-transport client with the live stream on, as a browser tab would have it. */
function liveTab(url: string) {
  const browser = cookieJarFetch()
  const expired: SessionExpiredEvent[] = []
  const expiredAt: number[] = []
  const auth = createBreakwaterAuth({
    url,
    transport: 'cookie',
    fetch: browser.fetch,
    live: true,
    onSessionExpired: (event) => {
      expiredAt.push(performance.now())
      expired.push(event)
    },
  })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  return { browser, auth, client, expired, expiredAt }
}

/** Another device of the same user: a bearer client signed in on its own. */
async function otherDevice(url: string, email: string) {
  const client = createBreakwaterClient<BreakwaterRouter>({ url, transport: 'bearer' })
  await client.auth.login.mutate({ email, password: PASSWORD })
  return client
}

t.test(
  'a session ended elsewhere reaches the client at once, with no request of its own',
  async (t) => {
    const { server, streams } = await serverWithSpy({ loginIpLimit: '1000/1m' })
    t.teardown(() => server.close())
    type Client = ReturnType<typeof createBreakwaterClient<BreakwaterRouter>>
    const ends: Array<[string, string, (other: Client, sessionId: string) => Promise<unknown>]> = [
      [
        'sessions.revoke',
        'user_revoked',
        (other, sessionId) => other.sessions.revoke.mutate({ sessionId }),
      ],
      [
        'auth.logoutAll',
        'logout_all',
        (other) => other.auth.logoutAll.mutate({ keepCurrent: true }),
      ],
      [
        'auth.changePassword',
        'password_changed',
        (other) =>
          other.auth.changePassword.mutate({
            currentPassword: PASSWORD,
            newPassword: 'another sturdy passphrase 43',
          }),
      ],
    ]
    const lags: number[] = []
    for (const [name, revocation, end] of ends) {
      const email = await registerUser(server.url)
      const tab = liveTab(server.url)
      t.teardown(() => tab.auth.close())
      const login = signedIn(await tab.client.auth.login.mutate({ email, password: PASSWORD }))
      const activeBefore = streams.active
      await until('the stream is confirmed', () => streams.active === activeBefore + 1)
      const other = await otherDevice(server.url, email)
      const sentBefore = tab.browser.sent.length

      // From the end's own answer: by then it has committed, and what follows is the
      // feed and the stream. (A password change hashes twice at the lowest priority first,
      // which on a busy machine takes seconds that are not the push's.) Negative: the tab
      // heard before the other device had its answer.
      await end(other, login.session.id)
      const answered = performance.now()
      await until(`${name}: the tab hears`, () => tab.expired.length > 0, 3000)
      lags.push(tab.expiredAt[0]! - answered)
      t.same(tab.expired, [{ reason: 'SESSION_REVOKED', revocation }], `${name}: says why`)
      t.equal(tab.auth.state, 'signed-out')
      t.same(
        tab.auth.snapshot,
        {
          state: 'signed-out',
          accessTokenExpiresAt: undefined,
          reason: 'SESSION_REVOKED',
          revocation,
        },
        'the snapshot says the same',
      )
      t.same(tab.browser.sent.slice(sentBefore), [], `${name}: the tab sent nothing to learn it`)
      await until(`${name}: the stream closed`, () => streams.open === 0)
      const after = await tab.client.auth.me.query().catch((e: unknown) => e)
      t.type(after, SessionExpiredError, 'later calls fail with the typed error')
      t.equal(readReason(after), 'SESSION_REVOKED')
    }
    const worst = Math.max(...lags)
    t.ok(worst < 3000, `every end reached the client within 3 s (worst ${worst.toFixed(0)} ms)`)
    t.comment(
      `end answered elsewhere → onSessionExpired: ${lags.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    )
  },
)

t.test('its own logout is no expiry, and the stream closes', async (t) => {
  const { server, streams } = await serverWithSpy()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const tab = liveTab(server.url)
  t.teardown(() => tab.auth.close())
  await tab.client.auth.login.mutate({ email, password: PASSWORD })
  await until('the stream is confirmed', () => streams.active === 1)
  await tab.client.auth.logout.mutate()
  await until('the stream closed', () => streams.open === 0)
  // The stream may have heard the logout before the answer came: either way, no expiry.
  await sleep(200)
  t.same(tab.expired, [], 'onSessionExpired stays quiet for our own logout')
  t.equal(tab.auth.snapshot.reason, 'LOGGED_OUT')
  t.equal(streams.requests, 1, 'no reconnect after the end')
})

t.test(
  'the access token expires under the stream: a reconnect refreshes once, then watches again',
  async (t) => {
    const { server, streams } = await serverWithSpy({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const tab = liveTab(server.url)
    t.teardown(() => tab.auth.close())
    const login = signedIn(await tab.client.auth.login.mutate({ email, password: PASSWORD }))
    await until('the stream is confirmed', () => streams.active === 1)
    await untilExpired(login.session.accessTokenExpiresAt)
    t.equal(streams.open, 1, 'the stream outlived its access token')
    t.equal(server.refreshes, 0, 'and nothing refreshed while idle')

    streams.drop() // a network failure
    await until('reconnected and confirmed', () => streams.active === 2)
    t.equal(server.refreshes, 1, 'one refresh: the reconnect found the token expired')
    t.equal(streams.requests, 3, 'refused once (TOKEN_EXPIRED), then accepted')
    t.equal(tab.auth.state, 'signed-in')
    t.same(tab.expired, [])

    const other = await otherDevice(server.url, email)
    await other.sessions.revoke.mutate({ sessionId: login.session.id })
    await until('the new stream hears the end', () => tab.expired.length === 1, 3000)
    t.same(tab.expired, [{ reason: 'SESSION_REVOKED', revocation: 'user_revoked' }])
  },
)

t.test('a server restart: reconnects with bounded, jittered backoff', async (t) => {
  const first = await serverWithSpy({ loginIpLimit: '1000/1m' })
  const email = await registerUser(first.server.url)
  const attempts: number[] = []
  const browser = cookieJarFetch()
  const counting: FetchLike = (url, init) => {
    if (url.endsWith('/sessions.watch')) attempts.push(performance.now())
    return browser.fetch(url, init)
  }
  const expired: SessionExpiredEvent[] = []
  const auth: BreakwaterAuth = createBreakwaterAuth({
    url: first.server.url,
    transport: 'cookie',
    fetch: counting,
    live: true,
    onSessionExpired: (event) => expired.push(event),
  })
  t.teardown(() => auth.close())
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  await until('the stream is confirmed', () => first.streams.active === 1)

  const closing = performance.now()
  await first.server.close()
  t.ok(performance.now() - closing < 5000, 'the open stream did not hold the shutdown up')
  const downSince = attempts.length
  // Down for 6 s: a naive retry would knock dozens of times.
  await sleep(6000)
  const whileDown = attempts.slice(downSince)
  const gaps = whileDown.slice(1).map((at, i) => at - whileDown[i]!)
  // Waits of 0.25–0.5 s, 0.5–1 s, 1–2 s, 2–4 s: 3 or 4 tries in 6 s (a 1 s retry would make 6).
  t.ok(
    whileDown.length >= 3 && whileDown.length <= 4,
    `3 or 4 attempts while down (${whileDown.length}: gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms)`,
  )
  t.ok(
    gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1]! - 20),
    'each wait at least as long as the one before (doubling, jittered to 50–100 %)',
  )
  t.ok(gaps.at(-1)! >= 500, 'and no longer short')
  t.equal(auth.state, 'signed-in', 'a server that is down says nothing about the session')
  t.same(expired, [])

  const second = await serverWithSpy({ loginIpLimit: '1000/1m' }, first.server.port)
  t.teardown(() => second.server.close())
  const back = performance.now()
  await until('reconnected to the new instance', () => second.streams.active === 1, 20_000)
  t.comment(`reconnected ${(performance.now() - back).toFixed(0)} ms after the server came back`)
  const other = await otherDevice(second.server.url, email)
  await other.auth.logoutAll.mutate({ keepCurrent: true })
  await until('the end reaches the client', () => expired.length === 1, 3000)
  t.same(expired, [{ reason: 'SESSION_REVOKED', revocation: 'logout_all' }])
  t.equal(login.session.id.length > 0, true)
})

t.test('a server without sessions.watch: one try, no retry loop', async (t) => {
  let streams: StreamSpy | undefined
  const server = await startServer({}, 0, (app) => {
    streams = spyOnStreams(app)
    // An older server: the procedure does not exist.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/trpc/sessions.watch'))
        return reply.code(404).send({ error: { data: { code: 'NOT_FOUND', httpStatus: 404 } } })
    })
  })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const tab = liveTab(server.url)
  t.teardown(() => tab.auth.close())
  await tab.client.auth.login.mutate({ email, password: PASSWORD })
  await until('the stream was tried', () => streams!.requests === 1)
  await sleep(1500)
  t.equal(streams!.requests, 1, 'not tried again')
  t.equal(tab.auth.state, 'signed-in', 'and the session is untouched')
})

t.test('bearer transport: off by default; on request, the stream carries the token', async (t) => {
  const { server, streams } = await serverWithSpy()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)

  const plain = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
  await plain.auth.login.mutate({ email, password: PASSWORD })
  await plain.auth.me.query()
  await sleep(200)
  t.equal(streams.requests, 0, 'a CLI opens no stream')

  const expired: SessionExpiredEvent[] = []
  const auth = createBreakwaterAuth({
    url: server.url,
    transport: 'bearer',
    live: true,
    onSessionExpired: (event) => expired.push(event),
  })
  t.teardown(() => auth.close())
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  await until('the stream is confirmed', () => streams.active === 1)
  await plain.sessions.revoke.mutate({ sessionId: login.session.id })
  await until('the end reaches the client', () => expired.length === 1, 3000)
  t.same(expired, [{ reason: 'SESSION_REVOKED', revocation: 'user_revoked' }])
  const after = await client.auth.me.query().catch((e: unknown) => e)
  t.type(after, SessionExpiredError)
})

t.test('misuse is refused when the client is made', async (t) => {
  t.throws(
    () => createBreakwaterAuth({ url: '/trpc', transport: 'cookie', live: 'yes' as never }),
    new TypeError('@breakwater/client: live must be true or false'),
  )
})
