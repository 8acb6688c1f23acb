import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BreakwaterRouter } from '@breakwater/server'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  memoryTokenStore,
  readReason,
  SessionExpiredError,
} from '../src/index.js'
import {
  closeDatabase,
  PASSWORD,
  registerUser,
  signedIn,
  startServer,
  type TestServer,
  testClock,
  untilExpired,
} from './helpers.js'

t.teardown(closeDatabase)

t.test('50 concurrent calls that find the token expired: one refresh, 50 replays', async (t) => {
  const server = await startServer({ accessTokenTtl: 2 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const store = memoryTokenStore()
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
    // The client's clock stands still: it never sees the token as due, so
    // every call goes out and the server must answer TOKEN_EXPIRED.
    clock: testClock(),
  })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  const first = await store.get()
  t.ok(first?.accessToken, 'login stored the tokens')
  await untilExpired(login.session.accessTokenExpiresAt)
  const before = server.paths.length
  const results = await Promise.all(Array.from({ length: 50 }, () => client.auth.me.query()))
  t.equal(results.length, 50)
  t.ok(
    results.every((r) => r.user.email === email),
    'all 50 succeed',
  )
  t.equal(server.refreshes, 1, 'exactly one refresh reached the server')
  const seen = server.paths.slice(before)
  t.equal(
    seen.filter((path) => path === '/trpc/auth.me').length,
    100,
    'each call failed once (TOKEN_EXPIRED) and was replayed once',
  )
  const after = await store.get()
  t.not(after?.refreshToken, first?.refreshToken, 'the refresh token rotated in the store')
})

t.test('refresh rejected: onSessionExpired once, typed errors, no retry storm', async (t) => {
  const server = await startServer({ accessTokenTtl: 2, refreshReuseGrace: 0 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const store = memoryTokenStore()
  const expired: string[] = []
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
    clock: testClock(),
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  // Someone else rotates the token first: ours is now a reused one (theft, SPEC §4).
  const stolen = (await store.get())!
  const thief = await fetch(`${server.url}/auth.refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: stolen.refreshToken }),
  })
  t.equal(thief.status, 200)
  await untilExpired(login.session.accessTokenExpiresAt)
  const before = server.refreshes
  const settled = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.sessions.list.query()),
  )
  t.equal(server.refreshes - before, 1, 'one refresh attempt, no storm')
  const reasons = settled.map((r) =>
    r.status === 'rejected' && r.reason instanceof SessionExpiredError
      ? readReason(r.reason)
      : r.status,
  )
  t.same(
    reasons,
    Array.from({ length: 20 }, () => 'REFRESH_REUSED'),
    'every pending call rejects with SessionExpiredError (REFRESH_REUSED)',
  )
  t.same(expired, ['REFRESH_REUSED'], 'onSessionExpired called exactly once')
  t.equal(await store.get(), null, 'the store is cleared')

  // Later calls do not refresh again and do not call the callback again.
  await t.rejects(client.auth.me.query())
  t.equal(server.refreshes - before, 1, 'still one refresh')
  t.equal(expired.length, 1)
})

t.test('a call that finds its session revoked signs out once', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const expired: string[] = []
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  const { session } = await client.auth.me.query()
  await client.sessions.revoke.mutate({ sessionId: session.id })
  const error = await client.auth.me.query().catch((e: unknown) => e)
  t.type(error, SessionExpiredError)
  t.equal(readReason(error), 'SESSION_REVOKED')
  t.same(expired, ['SESSION_REVOKED'])
  t.equal(server.refreshes, 0, 'a revoked session is not refreshed')
})

t.test('server unreachable during refresh: backs off on the clock, no sign-out', async (t) => {
  let restarted: Promise<TestServer> | undefined
  let current: TestServer | undefined
  // The first refresh request kills its connection and takes the whole server
  // down; a new one comes up on the same port (same database).
  const breakOnce = (app: FastifyInstance, server: TestServer) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.url !== '/trpc/auth.refresh' || restarted) return
      reply.hijack()
      request.raw.socket.destroy()
      restarted = server.close().then(async () => {
        current = await startServer({}, server.port)
        return current
      })
    })
  }
  const first = await startServer({}, 0, breakOnce)
  t.teardown(() => (current ?? first).close())
  const email = await registerUser(first.url)
  const expired: string[] = []
  const clock = testClock({ manualTimers: true })
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: first.url,
    transport: 'bearer',
    clock,
    refreshRetry: { baseDelayMs: 100, maxDelayMs: 400, retries: 8 },
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  // Due for a proactive refresh on the client's clock; still valid on the server's.
  clock.advanceTo(Date.parse(login.session.accessTokenExpiresAt) - 1000)
  const me = client.auth.me.query()

  const delay = await clock.nextTimer()
  t.ok(delay >= 50 && delay <= 100, `first backoff is 50–100 ms (jittered 100 ms), got ${delay}`)
  t.equal(first.refreshes, 1, 'the refresh did hit the outage')
  const reopened = await restarted!
  t.equal(reopened.refreshes, 0, 'no retry before the backoff ran out')
  t.same(expired, [], 'an unreachable server does not sign out')
  clock.advance(delay)

  t.equal((await me).user.email, email, 'the call succeeded after the outage')
  t.equal(reopened.refreshes, 1, 'the reopened server saw one refresh')
  t.same(expired, [], 'never signed out')
})

t.test('proactive refresh before expiry; none while the token is fresh', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const clock = testClock()
  const store = memoryTokenStore()
  const auth = createBreakwaterAuth({
    url: server.url,
    transport: 'bearer',
    store,
    refreshMargin: 2000,
    clock,
  })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  const expiresAt = Date.parse(login.session.accessTokenExpiresAt)
  await client.auth.me.query()
  clock.advanceTo(expiresAt - 2001)
  await client.auth.me.query()
  t.equal(server.refreshes, 0, 'fresh token (2001 ms left, margin 2000 ms): no refresh')

  clock.advance(1)
  const before = server.paths.length
  const results = await Promise.all(Array.from({ length: 5 }, () => client.auth.me.query()))
  t.equal(results.length, 5)
  t.equal(server.refreshes, 1, 'one refresh for five due calls')
  t.same(
    server.paths.slice(before),
    ['/trpc/auth.refresh', ...Array.from({ length: 5 }, () => '/trpc/auth.me')],
    'refresh first, then the calls: no failed attempt',
  )
  const rotated = await store.get()
  t.not(rotated?.accessToken, login.tokens?.accessToken, 'a new access token is stored')
  t.equal(
    auth.accessTokenExpiresAt?.getTime(),
    Date.parse(rotated!.accessTokenExpiresAt),
    'and its expiry is the one the client goes by',
  )
  await client.auth.me.query()
  t.equal(server.refreshes, 1, 'no second refresh right after the first')
})

t.test('without tokens a protected call fails plainly, without refresh', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const expired: string[] = []
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  const error = await client.auth.me.query().catch((e: unknown) => e)
  t.equal(readReason(error), 'TOKEN_MISSING')
  t.equal(server.refreshes, 0)
  t.same(server.paths, ['/trpc/auth.me'], 'one request, no refresh')
  t.same(expired, [])
})

t.test('a stored refresh token without an access token: refresh first', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const response = await fetch(`${server.url}/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  })
  const { result } = (await response.json()) as {
    result: { data: { tokens: { refreshToken: string; refreshTokenExpiresAt: string } } }
  }
  const { refreshToken, refreshTokenExpiresAt } = result.data.tokens
  const store = memoryTokenStore({
    accessToken: '',
    refreshToken,
    accessTokenExpiresAt: '',
    refreshTokenExpiresAt,
  })
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
  })
  const before = server.paths.length
  const me = await client.auth.me.query()
  t.equal(me.user.email, email)
  t.same(
    server.paths.slice(before),
    ['/trpc/auth.refresh', '/trpc/auth.me'],
    'refreshed before the call, which went out once',
  )
  t.ok((await store.get())?.accessToken, 'the store holds an access token now')
})

t.test('logout clears the store', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const store = memoryTokenStore()
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
    batch: true,
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  const before = server.paths.length
  const [a, b] = await Promise.all([client.auth.me.query(), client.sessions.list.query()])
  t.equal(a.user.email, email)
  t.equal(b.length, 2, 'the registration and this login')
  t.equal(server.paths.length - before, 1, 'both calls went in one batch request')
  await client.auth.logout.mutate()
  t.equal(await store.get(), null)
  const ended = await client.auth.me.query().catch((e: unknown) => e)
  // After a logout the client says so in its typed error; the server's answer is the cause.
  t.equal(readReason(ended), 'LOGGED_OUT')
  t.equal(readReason((ended as Error).cause), 'TOKEN_MISSING')
})

t.test('signInWithCode signs in like login; deleteAccount signs out like logout', async (t) => {
  const outboxDir = await mkdtemp(path.join(tmpdir(), 'breakwater-client-outbox-'))
  t.teardown(() => rm(outboxDir, { recursive: true, force: true }))
  const server = await startServer({ mail: { outboxDir } })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const store = memoryTokenStore()
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
  })
  await client.auth.requestSignInCode.mutate({ email })
  let code: string | undefined
  for (let i = 0; i < 150 && code === undefined; i++) {
    for (const file of await readdir(outboxDir)) {
      code ??= /code is (\d{6})\./.exec(await readFile(path.join(outboxDir, file), 'utf8'))?.[1]
    }
    if (code === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.ok(code, 'the code was mailed')
  const result = signedIn(await client.auth.signInWithCode.mutate({ email, code: code as string }))
  t.ok(result.tokens?.accessToken, 'bearer transport asked for by the client')
  t.ok((await store.get())?.refreshToken, 'the tokens are stored')
  t.equal((await client.auth.me.query()).user.email, email, 'and used')
  await client.auth.deleteAccount.mutate({ currentPassword: PASSWORD })
  t.equal(await store.get(), null, 'the deletion forgets the session')
  const ended = await client.auth.me.query().catch((e: unknown) => e)
  // After the deletion the client says so in its typed error; the server's answer is the cause.
  t.equal(readReason(ended), 'LOGGED_OUT')
  t.equal(readReason((ended as Error).cause), 'TOKEN_MISSING')
})

t.test(
  'REAUTH_REQUIRED: one prompt, a fresh access token, each refused call retried once',
  async (t) => {
    // The server's clock, moved past the step-up window (10 minutes) by hand.
    let serverNow = Date.now()
    const server = await startServer({ clock: () => serverNow })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    let prompts = 0
    let answer = true
    const store = memoryTokenStore()
    const auth = createBreakwaterAuth({
      url: server.url,
      transport: 'bearer',
      store,
      onReauthRequired: async () => {
        prompts++
        if (!answer) return false
        await client.auth.reauthenticate.mutate({ password: PASSWORD })
        return true
      },
    })
    const client = createBreakwaterClient<BreakwaterRouter>({ auth })
    signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
    const before = (await store.get())?.accessToken
    serverNow += 11 * 60 * 1000
    const [changed, enrolled] = await Promise.all([
      client.auth.changePassword.mutate({
        currentPassword: PASSWORD,
        newPassword: 'a brand new passphrase 9',
      }),
      client.mfa.totp.enroll.mutate(),
    ])
    t.equal(changed.ok, true, 'the refused call went through after the prompt')
    t.match(enrolled.uri, /^otpauth:\/\/totp\//, 'and so did the other')
    t.equal(prompts, 1, 'calls refused together share one prompt')
    const after = await store.get()
    t.not(after?.accessToken, before, 'the fresh access token is stored')
    t.ok(after?.refreshToken, 'beside the same refresh token')

    serverNow += 11 * 60 * 1000
    answer = false
    const declined = await client.auth.changePassword
      .mutate({ currentPassword: 'a brand new passphrase 9', newPassword: PASSWORD })
      .catch((error: unknown) => error)
    t.equal(readReason(declined), 'REAUTH_REQUIRED', 'a declined prompt lets the call fail')
    t.equal(prompts, 2)
  },
)
