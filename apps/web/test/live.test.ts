import type { BrowserContext, Page, Request } from 'playwright-core'
import t from 'tap'
import {
  builtWeb,
  guardNetwork,
  launchBrowser,
  newEmail,
  RefreshCounter,
  signIn,
  sleep,
  startServer,
  UI_WAIT_MS,
} from './support.js'

// Issue #13: no periodic calls. The session's end comes from the client's one
// `sessions.watch` stream per browser; the countdown is local.
const WATCH = '/trpc/sessions.watch'
const IDLE_MS = 12_000
const TTL_MS = 6000

// One build, two servers: a usual token lifetime, and a 6 s one for expiry (long enough
// that the renewed token's own proactive refresh, a quarter before its end, cannot fall
// inside the check's window on a loaded machine: 3 s once gave a second refresh).
const webDir = await builtWeb()
const server = await startServer(webDir, { ACCESS_TOKEN_TTL: '10m' })
t.teardown(server.stop)
const shortLived = await startServer(webDir, { ACCESS_TOKEN_TTL: '6s', CLOCK_LEEWAY: '0s' })
t.teardown(shortLived.stop)
const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  return context
}

const pathOf = (request: Request) => new URL(request.url()).pathname

/** Every request a page sends, but the long-lived stream (counted apart). */
function record(page: Page): { calls: string[]; watches: string[] } {
  const seen = { calls: [] as string[], watches: [] as string[] }
  page.on('request', (request) => {
    const path = pathOf(request)
    if (path === WATCH) seen.watches.push(path)
    else seen.calls.push(path)
  })
  return seen
}

/** Bounded wait for a condition checked in Node. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await sleep(25)
  }
  return true
}

/** Marks the document: still there later means no reload and no navigation happened. */
async function mark(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    ;(window as unknown as { liveMark: boolean }).liveMark = true
  })
  return () => page.evaluate(() => (window as unknown as { liveMark?: boolean }).liveMark === true)
}

/** Counts main-frame navigations (reloads, `goto`, history entries) from now on. */
function navigations(page: Page): () => number {
  let count = 0
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) count++
  })
  return () => count
}

/** Waits (bounded) for the sign-in form; resolves to when it showed. */
async function signInFormShown(page: Page, ms: number): Promise<number> {
  await page.getByTestId('sign-in').waitFor({ timeout: ms })
  await page.getByTestId('email').waitFor({ timeout: 100 })
  return Date.now()
}

t.test('a signed-out first visit makes no auth.refresh call', async (t) => {
  const context = await newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const seen = record(page)
  await page.goto(server.origin)
  await page.getByTestId('sign-in').waitFor({ timeout: UI_WAIT_MS })
  await sleep(1000)
  const trpc = seen.calls.filter((path) => path.startsWith('/trpc/'))
  t.comment(`calls on a first visit: ${JSON.stringify(trpc)}`)
  t.notOk(trpc.includes('/trpc/auth.refresh'), 'no auth.refresh')
  t.same(seen.watches, [], 'no live stream while signed out')
  t.equal(
    await page.locator('[data-testid="notice"]:visible').count(),
    0,
    'no "session ended" notice on a first visit',
  )
})

t.test(
  'an idle signed-in tab makes at most 2 calls in 12 s; one stream for two tabs',
  async (t) => {
    const context = await newContext()
    t.teardown(() => context.close())
    const watches: Request[] = []
    context.on('request', (request) => {
      if (pathOf(request) === WATCH) watches.push(request)
    })
    const first = await context.newPage()
    const firstSeen = record(first)
    await first.goto(server.origin)
    await signIn(first, newEmail('idle'), 'sign-up')
    const second = await context.newPage()
    const secondSeen = record(second)
    await second.goto(server.origin)
    await second.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
    for (const page of [first, second]) await page.getByTestId('session-row').first().waitFor()
    t.ok(await until(() => watches.length > 0, 5000), 'the live stream opened')
    await sleep(500) // let the last answers of the sign-in land

    firstSeen.calls.length = 0
    secondSeen.calls.length = 0
    const countdownBefore = await first.getByTestId('countdown').textContent()
    await sleep(IDLE_MS)
    const countdownAfter = await first.getByTestId('countdown').textContent()
    const per = [firstSeen.calls.length, secondSeen.calls.length]
    t.comment(`idle calls in ${IDLE_MS / 1000} s: first tab ${JSON.stringify(firstSeen.calls)}`)
    t.comment(`idle calls in ${IDLE_MS / 1000} s: second tab ${JSON.stringify(secondSeen.calls)}`)
    for (const [i, count] of per.entries()) {
      t.comment(
        `tab ${i + 1}: ${count} call(s) in ${IDLE_MS / 1000} s, ≈ ${((count * 60_000) / IDLE_MS).toFixed(1)} per minute`,
      )
      t.ok(count <= 2, `tab ${i + 1}: at most 2 calls while idle (${count})`)
    }
    t.not(countdownAfter, countdownBefore, 'the countdown ran on, locally')

    const tabs = watches.map((request) => (request.frame().page() === first ? 1 : 2))
    t.comment(`sessions.watch requests by tab: ${JSON.stringify(tabs)}`)
    t.equal(watches.length, 1, 'exactly one sessions.watch request across both tabs')
    t.equal(firstSeen.watches.length + secondSeen.watches.length, 1, 'seen from one tab')
  },
)

t.test(
  'an open idle tab revoked from a second device shows the sign-in form within 3 s',
  async (t) => {
    const email = newEmail('revoked')
    const mine = await newContext()
    const theirs = await newContext()
    t.teardown(() => Promise.all([mine.close(), theirs.close()]))
    const victim = await mine.newPage()
    await victim.goto(server.origin)
    await signIn(victim, email, 'sign-up')
    await victim.getByTestId('session-row').first().waitFor()
    const other = await theirs.newPage()
    await other.goto(server.origin)
    await signIn(other, email, 'sign-in')
    await other.getByTestId('revoke-session').waitFor({ timeout: UI_WAIT_MS })
    t.equal(await other.getByTestId('revoke-session').count(), 1, 'the first session is revocable')

    const stillSamePage = await mark(victim)
    const navigated = navigations(victim)
    const revoked = other.waitForResponse(
      (response) => pathOf(response.request()) === '/trpc/sessions.revoke',
    )
    await other.getByTestId('revoke-session').click()
    const response = await revoked
    t.equal(response.status(), 200, 'revoked')
    const revokedAt = Date.now()
    const shownAt = await signInFormShown(victim, 3000)
    const latency = shownAt - revokedAt
    t.comment(`revocation → sign-in form: ${latency} ms`)
    t.ok(latency < 3000, `sign-in form ${latency} ms after the revocation`)
    t.match(await victim.getByTestId('notice').textContent(), /session was ended/i, 'says why')
    t.ok(await stillSamePage(), 'no reload')
    t.equal(navigated(), 0, 'no navigation')
    t.equal(await victim.getByTestId('me-email').count(), 0, 'nothing of the signed-in page left')
    // The other device's list refetches after its revoke answered; wait for that, bounded.
    await other
      .getByTestId('session-row')
      .nth(1)
      .waitFor({ state: 'detached', timeout: UI_WAIT_MS })
    t.equal(
      await other.getByTestId('session-row').count(),
      1,
      'one session left on the other device',
    )
  },
)

t.test('two tabs after expiry make one refresh', async (t) => {
  const context = await newContext()
  t.teardown(() => context.close())
  const first = await context.newPage()
  await first.goto(shortLived.origin)
  const email = newEmail('expiry')
  await signIn(first, email, 'sign-up')
  const second = await context.newPage()
  await second.goto(shortLived.origin)
  await second.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  for (const page of [first, second]) await page.getByTestId('session-row').first().waitFor()

  const refreshes = new RefreshCounter(context)
  await sleep(TTL_MS + 700)
  t.equal(refreshes.count, 0, 'idle past expiry: no refresh (nothing to renew for)')
  // The user comes back to both tabs at once: each re-reads, finding the token expired.
  await Promise.all(
    [first, second].map((page) => page.evaluate(() => window.dispatchEvent(new Event('focus')))),
  )
  t.ok(await until(() => refreshes.statuses.length > 0, 5000), 'a refresh answered')
  await sleep(1000) // time for a second refresh, were there one
  const tabs = refreshes.requests.map((request) => (request.frame().page() === first ? 1 : 2))
  t.comment(`auth.refresh requests by tab: ${JSON.stringify(tabs)}`)
  t.equal(refreshes.count, 1, 'one auth.refresh across both tabs')
  t.same(refreshes.statuses, [200], 'and it succeeded')
  for (const [name, page] of Object.entries({ first, second })) {
    t.equal(await page.getByTestId('me-email').textContent(), email, `${name} tab signed in`)
    t.equal(await page.getByTestId('sign-in').count(), 0, `${name} tab shows no sign-in form`)
  }
})

t.test('sign-out everywhere ends every tab at once', async (t) => {
  const email = newEmail('everywhere')
  const mine = await newContext()
  const theirs = await newContext()
  t.teardown(() => Promise.all([mine.close(), theirs.close()]))
  const first = await mine.newPage()
  await first.goto(server.origin)
  await signIn(first, email, 'sign-up')
  const second = await mine.newPage()
  await second.goto(server.origin)
  await second.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  const elsewhere = await theirs.newPage()
  await elsewhere.goto(server.origin)
  await signIn(elsewhere, email, 'sign-in')
  for (const page of [first, second, elsewhere])
    await page.getByTestId('session-row').first().waitFor()
  await sleep(300)

  const secondSeen = record(second)
  const checks = await Promise.all(
    [second, elsewhere].map(async (page) => ({
      same: await mark(page),
      navigated: navigations(page),
    })),
  )
  const clicked = Date.now()
  await first.getByTestId('sign-out-everywhere').click()
  const [here, tab, device] = await Promise.all([
    signInFormShown(first, 3000),
    signInFormShown(second, 3000),
    signInFormShown(elsewhere, 3000),
  ])
  t.comment(
    `sign out everywhere → sign-in form: this tab ${here - clicked} ms, other tab ${tab - clicked} ms, other device ${device - clicked} ms`,
  )
  t.match(await first.getByTestId('notice').textContent(), /every device/, 'this tab says so')
  t.match(await second.getByTestId('notice').textContent(), /another tab/, 'the peer tab says why')
  t.match(
    await elsewhere.getByTestId('notice').textContent(),
    /session was ended/i,
    'the device too',
  )
  for (const [i, { same, navigated }] of checks.entries()) {
    t.ok(await same(), `page ${i + 2}: no reload`)
    t.equal(navigated(), 0, `page ${i + 2}: no navigation`)
  }
  t.same(
    secondSeen.calls.filter((path) => path.startsWith('/trpc/')),
    [],
    'the peer tab signed out without a request of its own',
  )
  t.same(await mine.cookies(), [], 'cookies cleared')
})

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
