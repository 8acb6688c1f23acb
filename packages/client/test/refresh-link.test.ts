import type { BreakwaterRouter } from '@breakwater/server'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import {
  createBreakwaterClient,
  memoryTokenStore,
  readReason,
  SessionExpiredError,
} from '../src/index.js'
import {
  closeDatabase,
  PASSWORD,
  registerUser,
  sleep,
  startServer,
  type TestServer,
} from './helpers.js'

t.teardown(closeDatabase)

t.test('50 concurrent calls after expiry: one refresh, 50 successes', async (t) => {
  const server = await startServer({ accessTokenTtl: 2 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const store = memoryTokenStore()
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    store,
    refreshMargin: 0,
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  const first = await store.get()
  t.ok(first?.accessToken, 'login stored the tokens')
  await sleep(2100)
  const results = await Promise.all(Array.from({ length: 50 }, () => client.auth.me.query()))
  t.equal(results.length, 50)
  t.ok(
    results.every((r) => r.user.email === email),
    'all 50 succeed',
  )
  t.equal(server.refreshes, 1, 'exactly one refresh reached the server')
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
    refreshMargin: 0,
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  // Someone else rotates the token first: ours is now a reused one (theft, SPEC §4).
  const stolen = (await store.get())!
  const thief = await fetch(`${server.url}/auth.refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: stolen.refreshToken }),
  })
  t.equal(thief.status, 200)
  await sleep(2100)
  const before = server.refreshes
  const settled = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.sessions.list.query()),
  )
  t.equal(server.refreshes - before, 1, 'one refresh attempt, no storm')
  t.ok(
    settled.every((r) => r.status === 'rejected' && r.reason instanceof SessionExpiredError),
    'every pending call rejects with SessionExpiredError',
  )
  const reason = settled[0]?.status === 'rejected' ? readReason(settled[0].reason) : undefined
  t.equal(reason, 'REFRESH_REUSED')
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

t.test('server unreachable during refresh: retried with backoff, no sign-out', async (t) => {
  let downAt = 0
  let current: TestServer
  // The first refresh request kills its connection and takes the whole server
  // down; a new one comes up on the same port 300 ms later (same database).
  const breakOnce = (app: FastifyInstance, server: TestServer) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.url !== '/trpc/auth.refresh' || downAt) return
      downAt = Date.now()
      reply.hijack()
      request.raw.socket.destroy()
      void server.close()
      setTimeout(async () => {
        current = await startServer({ accessTokenTtl: 1 }, server.port)
      }, 300)
    })
  }
  const first = await startServer({ accessTokenTtl: 1 }, 0, breakOnce)
  current = first
  t.teardown(() => current.close())
  const email = await registerUser(first.url)
  const expired: string[] = []
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: first.url,
    transport: 'bearer',
    refreshMargin: 0,
    refreshRetry: { baseDelayMs: 100, maxDelayMs: 400, retries: 8 },
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  await sleep(2100)
  const me = await client.auth.me.query()
  t.equal(me.user.email, email, 'the call succeeded after the outage')
  t.ok(downAt > 0, 'the refresh did hit the outage')
  t.ok(Date.now() - downAt >= 300, 'it waited for the server to come back')
  t.equal(current!.refreshes, 1, 'the reopened server saw one refresh')
  t.same(expired, [], 'never signed out')
})

t.test('proactive refresh before expiry; none while the token is fresh', async (t) => {
  // Whole-second exp: right after login 3–4 s remain (fresh); 2.1 s later 0.9–1.9 s (due, unexpired).
  const server = await startServer({ accessTokenTtl: 4 })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'bearer',
    refreshMargin: 2000,
  })
  await client.auth.login.mutate({ email, password: PASSWORD })
  await client.auth.me.query()
  await client.auth.me.query()
  t.equal(server.refreshes, 0, 'fresh token: no refresh')
  await sleep(2100)
  const before = server.paths.length
  await client.auth.me.query()
  t.equal(server.refreshes, 1, 'refreshed before the call')
  t.same(
    server.paths.slice(before),
    ['/trpc/auth.refresh', '/trpc/auth.me'],
    'refresh first, then one call: no failed attempt',
  )
  await client.auth.me.query()
  t.equal(server.refreshes, 1, 'the new token is fresh again')
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
  t.same(expired, [])
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
  const [a, b] = await Promise.all([client.auth.me.query(), client.sessions.list.query()])
  t.equal(a.user.email, email)
  t.ok(b.length >= 1, 'batched calls work')
  await client.auth.logout.mutate()
  t.equal(await store.get(), null)
  t.equal(readReason(await client.auth.me.query().catch((e: unknown) => e)), 'TOKEN_MISSING')
})
