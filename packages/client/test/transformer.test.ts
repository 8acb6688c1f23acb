// Issue #12, SPEC §8: a team's tRPC instance with a data transformer. The
// client's own refresh request must encode and decode as tRPC's links do.

import { breakwaterErrorFormatter, createBreakwater } from '@breakwater/server'
import { initTRPC } from '@trpc/server'
import t from 'tap'
import { z } from 'zod'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  memoryTokenStore,
  readReason,
  SessionExpiredError,
} from '../src/index.js'
import type { FetchLike } from '../src/wire.js'
import {
  closeDatabase,
  cookieJarFetch,
  PASSWORD,
  signedIn,
  startServer,
  testClock,
  uniqueEmail,
  untilExpired,
} from './helpers.js'

t.teardown(closeDatabase)

/**
 * A transformer that refuses what it did not wrap: any plain JSON crossing the
 * wire, either way, fails loudly instead of passing by luck. A Date (at the
 * top level) becomes a tagged string, so it only stays a Date through it.
 */
const tagged = {
  serialize: (value: unknown) => ({
    tag: 'x',
    json: value instanceof Date ? { date: value.toISOString() } : value,
  }),
  deserialize(wire: unknown): unknown {
    const box = wire as { tag?: unknown; json?: { date?: unknown } }
    if (box?.tag !== 'x') throw new Error(`untagged value on the wire: ${JSON.stringify(wire)}`)
    return typeof box.json?.date === 'string' ? new Date(box.json.date) : box.json
  },
}

// A team's instance with the transformer, its own context, and Breakwater's
// procedures built on it.
const team = initTRPC.context<{ tenant: string }>().create({
  transformer: tagged,
  errorFormatter: breakwaterErrorFormatter(),
})
const createContext = () => ({ tenant: 'acme' })
const auth = createBreakwater(team)
const appRouter = team.router({
  account: auth.router,
  clock: team.router({
    // A Date in and out: only the transformer keeps it a Date.
    later: team.procedure.input(z.date()).query(({ input }) => new Date(input.getTime() + 1000)),
  }),
})
type AppRouter = typeof appRouter

t.test('transformer option: checked once, with a clear error', async (t) => {
  const make = (transformer: unknown) =>
    createBreakwaterAuth({ url: '/api', transport: 'bearer', transformer: transformer as never })
  for (const bad of [null, 42, {}, { serialize: () => 1 }, { input: tagged }]) {
    t.throws(
      () => make(bad),
      {
        name: 'TypeError',
        message: /@breakwater\/client: transformer must be a tRPC data transformer/,
      },
      `refuses ${JSON.stringify(bad)}`,
    )
  }
  t.equal(make(tagged).transformer, tagged, 'one for both directions')
  const combined = { input: tagged, output: tagged }
  t.equal(make(combined).transformer, combined, 'or { input, output }')
  // superjson's default export is a class with static methods: a function, not an object.
  const StaticJson = Object.assign(() => {}, tagged)
  t.doesNotThrow(() => make(StaticJson), 'a class with static methods, as superjson exports')
})

t.test('bearer, namespace and transformer: the refresh round trip and typed reasons', async (t) => {
  const server = await startServer({
    router: appRouter,
    createContext,
    prefix: '/api',
    accessTokenTtl: 2,
  })
  t.teardown(() => server.close())
  const refreshBodies: unknown[] = []
  const recording: FetchLike = async (url, init) => {
    if (url.endsWith('/account.auth.refresh')) refreshBodies.push(init?.body)
    return fetch(url, init)
  }
  const store = memoryTokenStore()
  const client = createBreakwaterClient<AppRouter>({
    url: server.url,
    transport: 'bearer',
    namespace: 'account',
    transformer: tagged,
    store,
    fetch: recording,
    clock: testClock(),
  })
  const email = uniqueEmail('transformer')
  await client.account.auth.register.mutate({ email, password: PASSWORD })

  const wrong = await client.account.auth.login
    .mutate({ email, password: 'not the passphrase' })
    .catch((e: unknown) => e)
  t.equal(readReason(wrong), 'INVALID_CREDENTIALS', 'a reason inside a transformed error shape')
  const taken = await client.account.auth.register
    .mutate({ email, password: PASSWORD })
    .catch((e: unknown) => e)
  t.equal(readReason(taken), 'EMAIL_TAKEN')

  const login = signedIn(await client.account.auth.login.mutate({ email, password: PASSWORD }))
  t.ok(login.tokens, 'bearer tokens, asked for through the transformer')
  const at = new Date('2030-01-01T00:00:00.000Z')
  const later = await client.clock.later.query(at)
  t.ok(later instanceof Date, 'a Date survives: the HTTP link got the transformer')
  t.equal(later.toISOString(), '2030-01-01T00:00:01.000Z')

  await untilExpired(login.session.accessTokenExpiresAt)
  const results = await Promise.all(Array.from({ length: 5 }, () => client.account.auth.me.query()))
  t.ok(
    results.every((me) => me.user.email === email),
    'every expired call succeeds after one refresh',
  )
  t.equal(server.refreshes, 1)
  const stored = await store.get()
  t.not(stored?.refreshToken, login.tokens?.refreshToken, 'rotated tokens were decoded and stored')
  t.equal(refreshBodies.length, 1)
  t.same(
    JSON.parse(String(refreshBodies[0])),
    { tag: 'x', json: { refreshToken: login.tokens?.refreshToken } },
    'the refresh input went through the transformer',
  )
})

t.test('transformer { input, output }: a refused refresh is read through it', async (t) => {
  const server = await startServer({
    router: appRouter,
    createContext,
    prefix: '/api',
    accessTokenTtl: 2,
    refreshReuseGrace: 0,
  })
  t.teardown(() => server.close())
  const expired: string[] = []
  const store = memoryTokenStore()
  const client = createBreakwaterClient<AppRouter>({
    url: server.url,
    transport: 'bearer',
    namespace: 'account',
    transformer: { input: tagged, output: tagged },
    store,
    clock: testClock(),
    onSessionExpired: ({ reason }) => expired.push(reason),
  })
  const email = uniqueEmail('transformer')
  await client.account.auth.register.mutate({ email, password: PASSWORD })
  const login = signedIn(await client.account.auth.login.mutate({ email, password: PASSWORD }))
  // Someone else rotates our refresh token first: ours comes back as reused (SPEC §4).
  const thief = await fetch(`${server.url}/account.auth.refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(tagged.serialize({ refreshToken: login.tokens?.refreshToken })),
  })
  t.equal(thief.status, 200)

  await untilExpired(login.session.accessTokenExpiresAt)
  const error = await client.account.auth.me.query().catch((e: unknown) => e)
  t.type(error, SessionExpiredError, 'not RefreshUnavailableError: the reason was decoded')
  t.equal(readReason(error), 'REFRESH_REUSED')
  t.same(expired, ['REFRESH_REUSED'])
  t.equal(await store.get(), null)
})

t.test('cookie transport with a transformer at the root', async (t) => {
  // Breakwater's router at the root of the team's router (no key).
  const rootRouter = auth.router
  const server = await startServer({ router: rootRouter, createContext, accessTokenTtl: 2 })
  t.teardown(() => server.close())
  const browser = cookieJarFetch()
  const refreshBodies: unknown[] = []
  const client = createBreakwaterClient<typeof rootRouter>({
    url: server.url,
    transport: 'cookie',
    transformer: tagged,
    fetch: (url, init) => {
      if (url.endsWith('/auth.refresh')) refreshBodies.push(init?.body)
      return browser.fetch(url, init)
    },
    clock: testClock(),
  })
  const email = uniqueEmail('transformer')
  const login = await client.auth.register.mutate({ email, password: PASSWORD })
  await untilExpired(login.session.accessTokenExpiresAt)
  const before = browser.sent.length
  const me = await client.auth.me.query()
  t.equal(me.user.email, email)
  t.equal(server.refreshes, 1)
  const refresh = browser.sent.slice(before).find((r) => r.path === '/trpc/auth.refresh')
  t.equal(refresh?.headers['x-breakwater-csrf'], '1')
  t.match(refresh?.headers.cookie, /bw_refresh=/, 'the refresh cookie went along')
  t.same(refreshBodies, ['{"tag":"x"}'], 'no input, serialized as tRPC serializes undefined')

  await client.auth.logout.mutate()
  const after = await client.auth.me.query().catch((e: unknown) => e)
  // After a logout the client says so in its typed error; the server's answer is the cause.
  t.equal(readReason(after), 'LOGGED_OUT')
  t.equal(readReason((after as Error).cause), 'TOKEN_MISSING')
})
