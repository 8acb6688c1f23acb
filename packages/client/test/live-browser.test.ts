// The live session in real Chromium against a real server: one `sessions.watch`
// stream per browser (Web Locks), idle tabs that send nothing, the end of the
// session reaching every tab through the stream and the cross-tab channel,
// leadership handed over when a tab closes, a reconnect after the access token
// expired, and after a server restart.
import type { BreakwaterRouter } from '@breakwater/server'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t from 'tap'
import { type BreakwaterAuth, createBreakwaterClient, type SessionEndReason } from '../src/index.js'
import { bundleClient, launchBrowser, servePage } from './browser-support.js'
import {
  closeDatabase,
  PASSWORD,
  registerUser,
  startServer,
  type TestServer,
  untilExpired,
} from './helpers.js'
import { type StreamSpy, sleep, spyOnStreams, until } from './live-support.js'

t.teardown(closeDatabase)

/** What each test page keeps on `window.tab` (see browser-support.ts). */
interface PageTab {
  auth: BreakwaterAuth
  client: ReturnType<typeof createBreakwaterClient<BreakwaterRouter>>
  heard: Array<{ state: string; reason?: SessionEndReason; revocation?: string; at: number }>
  expired: Array<{ reason: SessionEndReason; revocation?: string; at: number }>
}
type PageGlobal = { tab: PageTab }

let bundle: string
let browser: Browser

t.before(async () => {
  bundle = await bundleClient()
  browser = await launchBrowser()
})
t.teardown(() => browser?.close())

async function serve(
  options: Parameters<typeof startServer>[0] = {},
  port = 0,
): Promise<{ server: TestServer; streams: StreamSpy; origin: string }> {
  let streams: StreamSpy | undefined
  const server = await startServer({ loginIpLimit: '1000/1m', ...options }, port, (app) => {
    streams = spyOnStreams(app)
    servePage(app, bundle)
  })
  return { server, streams: streams!, origin: `http://127.0.0.1:${server.port}` }
}

/** Every request the browser sends, with the time (ms since the epoch) and path. */
function recordRequests(context: BrowserContext): Array<{ at: number; path: string }> {
  const requests: Array<{ at: number; path: string }> = []
  context.on('request', (request) => {
    const url = new URL(request.url())
    if (url.hostname !== '127.0.0.1') throw new Error(`a request off this machine: ${url}`)
    requests.push({ at: Date.now(), path: url.pathname })
  })
  return requests
}

/** `hearLateMs`: the tab's BroadcastChannels deliver that much late, as on a loaded browser. */
async function openTab(
  context: BrowserContext,
  origin: string,
  hearLateMs?: number,
): Promise<Page> {
  const page = await context.newPage()
  if (hearLateMs !== undefined) await page.addInitScript(delayBroadcasts, hearLateMs)
  await page.goto(`${origin}/live/`)
  await page.waitForFunction(() => (globalThis as unknown as PageGlobal).tab !== undefined)
  return page
}

/** Runs in the page before its scripts: every BroadcastChannel's `onmessage` hears `ms` late. */
function delayBroadcasts(ms: number): void {
  const prototype = globalThis.BroadcastChannel.prototype
  const native = Object.getOwnPropertyDescriptor(prototype, 'onmessage')!
  Object.defineProperty(prototype, 'onmessage', {
    ...native,
    set(this: object, listener: ((event: unknown) => void) | null) {
      const late =
        listener && ((event: unknown) => setTimeout(() => listener.call(this, event), ms))
      native.set!.call(this, late)
    },
  })
}

const login = (page: Page, email: string) =>
  page.evaluate(
    async ([email, password]) => {
      const { client } = (globalThis as unknown as PageGlobal).tab
      const result = await client.auth.login.mutate({ email: email!, password: password! })
      if ('mfaRequired' in result) throw new Error('no second factor expected')
      return result.session.id
    },
    [email, PASSWORD],
  )
const me = (page: Page) =>
  page.evaluate(async () => {
    const { client } = (globalThis as unknown as PageGlobal).tab
    return (await client.auth.me.query()).user.email
  })
const stateOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobal).tab.auth.state)
const expiredOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobal).tab.expired)

/** Another device of the same user, signed in over bearer tokens. */
async function otherDevice(url: string, email: string) {
  const client = createBreakwaterClient<BreakwaterRouter>({ url, transport: 'bearer' })
  await client.auth.login.mutate({ email, password: PASSWORD })
  return client
}

t.test('two idle tabs: one stream, no other request; a revoke reaches both at once', async (t) => {
  const { server, streams, origin } = await serve()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const requests = recordRequests(context)

  const a = await openTab(context, origin)
  const sessionId = await login(a, email)
  await until('A streams', () => streams.active === 1)
  const b = await openTab(context, origin)
  t.equal(await me(b), email, 'tab B is signed in on the shared cookies')
  t.equal(await stateOf(b), 'signed-in')

  // Idle: nothing but the one open stream, for 12 s.
  const idleFrom = Date.now()
  const serverBefore = server.paths.length
  await sleep(12_000)
  const idle = requests.filter((r) => r.at >= idleFrom)
  t.same(idle, [], 'the two idle tabs sent no request in 12 s')
  t.same(server.paths.slice(serverBefore), [], 'and the server saw none')
  t.equal(streams.requests, 1, 'one stream was ever opened, for both tabs')
  t.equal(streams.open, 1, 'and it is still open')
  t.comment('calls per idle tab in 12 s: 0 (one open sessions.watch stream for the browser)')

  const other = await otherDevice(server.url, email)
  const asked = Date.now()
  await other.sessions.revoke.mutate({ sessionId })
  // From the revoke's answer (it has committed): what follows is the feed and the stream.
  const answered = Date.now()
  for (const [name, page] of [
    ['A', a],
    ['B', b],
  ] as const) {
    await until(`tab ${name} hears`, async () => (await expiredOf(page)).length > 0, 3000)
  }
  const [endA, endB] = [(await expiredOf(a))[0]!, (await expiredOf(b))[0]!]
  const lagA = endA.at - answered
  const lagB = endB.at - answered
  t.ok(lagA < 3000 && lagB < 3000, `both tabs signed out within 3 s (A ${lagA} ms, B ${lagB} ms)`)
  t.comment(`revoke answered → tab signed out: A (streaming) ${lagA} ms, B (told by A) ${lagB} ms`)
  for (const [name, event, page] of [
    ['A', endA, a],
    ['B', endB, b],
  ] as const) {
    t.same(
      { reason: event.reason, revocation: event.revocation },
      { reason: 'SESSION_REVOKED', revocation: 'user_revoked' },
      `tab ${name} says why`,
    )
    t.equal(await stateOf(page), 'signed-out')
  }
  t.same(
    requests.filter((r) => r.at >= asked),
    [],
    'no tab sent a request to learn it (no polling, no probe)',
  )
  await until('the stream closed', () => streams.open === 0)
  await sleep(500)
  t.equal(streams.requests, 1, 'and nobody reopened it')
})

t.test('the streaming tab closes: another tab takes over', async (t) => {
  const { server, streams, origin } = await serve()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const a = await openTab(context, origin)
  const sessionId = await login(a, email)
  await until('A streams', () => streams.active === 1)
  const b = await openTab(context, origin)
  await me(b)
  const c = await openTab(context, origin)
  await me(c)
  t.equal(streams.requests, 1, 'one stream for three tabs')

  await a.close()
  const took = await until('another tab streams', () => streams.active === 2, 5000)
  t.comment(`leadership handed over in ${took.toFixed(0)} ms`)
  await sleep(300)
  t.equal(streams.open, 1, 'one stream again, not one per remaining tab')

  const other = await otherDevice(server.url, email)
  await other.auth.logoutAll.mutate({ keepCurrent: true })
  for (const page of [b, c]) {
    await until('the tab hears', async () => (await expiredOf(page)).length > 0, 3000)
    t.same(
      (await expiredOf(page)).map((e) => [e.reason, e.revocation]),
      [['SESSION_REVOKED', 'logout_all']],
    )
  }
  t.ok(sessionId)
})

t.test(
  'the access token expires under the stream; a dropped connection refreshes and reconnects',
  async (t) => {
    const { server, streams, origin } = await serve({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const requests = recordRequests(context)
    const a = await openTab(context, origin)
    await login(a, email)
    await until('A streams', () => streams.active === 1)
    const expiresAt = await a.evaluate(() =>
      (globalThis as unknown as PageGlobal).tab.auth.accessTokenExpiresAt?.toISOString(),
    )
    await untilExpired(expiresAt!)
    t.equal(streams.open, 1, 'the stream outlived the access token')

    const droppedAt = Date.now()
    streams.drop()
    await until('reconnected and confirmed', () => streams.active === 2, 10_000)
    // Playwright reports requests a little after the server has seen them.
    const since = () => requests.filter((r) => r.at >= droppedAt).map((r) => r.path)
    await until('the browser reported its requests', () => since().length >= 3, 3000).catch(
      () => {},
    )
    const sequence = since()
    t.same(
      sequence,
      ['/trpc/sessions.watch', '/trpc/auth.refresh', '/trpc/sessions.watch'],
      `refused as expired, one refresh, accepted (${sequence.join(', ')})`,
    )
    t.equal(server.refreshes, 1)
    t.equal(await stateOf(a), 'signed-in')
    t.same(await expiredOf(a), [])
  },
)

t.test(
  'two tabs past expiry refresh once, even when the lock comes before the peer message',
  async (t) => {
    const { server, origin } = await serve({ accessTokenTtl: 2 })
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const a = await openTab(context, origin)
    await login(a, email)
    // B hears A's "refreshed" 400 ms late: the browser may grant B the refresh lock
    // A let go of before it delivers that message, and B must not refresh again.
    const b = await openTab(context, origin, 400)
    t.equal(await me(b), email, 'B uses the session A signed in')
    const expiresAt = await a.evaluate(() =>
      (globalThis as unknown as PageGlobal).tab.auth.accessTokenExpiresAt?.toISOString(),
    )
    await untilExpired(expiresAt!)
    const before = server.refreshes
    const [fromA, fromB] = await Promise.all([me(a), me(b)])
    t.same([fromA, fromB], [email, email], 'both tabs got their answer')
    await sleep(600) // B's late messages arrive; a second refresh, were there one, is counted
    t.equal(server.refreshes - before, 1, 'one auth.refresh for both tabs')
    t.same([await stateOf(a), await stateOf(b)], ['signed-in', 'signed-in'])
    t.same([await expiredOf(a), await expiredOf(b)], [[], []], 'no expiry heard')
  },
)

t.test('a server restart: the tab reconnects to the new instance', async (t) => {
  const first = await serve()
  const email = await registerUser(first.server.url)
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const a = await openTab(context, first.origin)
  await login(a, email)
  await until('A streams', () => first.streams.active === 1)
  await first.server.close()
  await sleep(1000)
  t.equal(await stateOf(a), 'signed-in', 'a server that went away says nothing about the session')

  const second = await serve({}, first.server.port)
  t.teardown(() => second.server.close())
  const took = await until('reconnected', () => second.streams.active === 1, 15_000)
  t.comment(`reconnected ${took.toFixed(0)} ms after the server came back`)
  const other = await otherDevice(second.server.url, email)
  await other.auth.logoutAll.mutate({ keepCurrent: true })
  await until('the tab hears', async () => (await expiredOf(a)).length > 0, 3000)
  t.same(
    (await expiredOf(a)).map((e) => [e.reason, e.revocation]),
    [['SESSION_REVOKED', 'logout_all']],
  )
})
