import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import {
  guardNetwork,
  launchBrowser,
  newEmail,
  PASSWORD,
  RefreshCounter,
  screenshot,
  serveBuiltApp,
  signIn,
  sleep,
  sleepLid,
  UI_WAIT_MS,
  visibleSecrets,
} from './support.js'

// Access tokens live 3 s with no leeway, so they expire within a test.
const TTL_MS = 3000
const PAST_EXPIRY_MS = TTL_MS + 700

const server = await serveBuiltApp(t, { ACCESS_TOKEN_TTL: '3s', CLOCK_LEEWAY: '0s' })
const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []

async function newContext(options: { clock?: boolean } = {}) {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  if (options.clock) await context.clock.install()
  return context
}

async function cookieNames(context: Awaited<ReturnType<typeof newContext>>): Promise<string[]> {
  return (await context.cookies()).map((cookie) => cookie.name).sort()
}

/**
 * Both cookies are still there (the access cookie lives as long as the refresh
 * cookie, SPEC §5), but the token in the access cookie has expired.
 */
async function accessTokenExpired(
  context: Awaited<ReturnType<typeof newContext>>,
): Promise<boolean> {
  const cookies = await context.cookies()
  const access = cookies.find((cookie) => cookie.name === 'bw_access')
  if (!access || !cookies.some((cookie) => cookie.name === 'bw_refresh')) return false
  const payload = JSON.parse(
    Buffer.from(access.value.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as { exp: number }
  return payload.exp * 1000 <= Date.now()
}

t.test('the build is self-contained', async (t) => {
  const assets = await readdir(path.join(server.webDir, 'assets'))
  const scripts = assets.filter((file) => file.endsWith('.js'))
  t.ok(scripts.length > 0, 'a script was built')
  for (const file of [...assets.map((a) => path.join('assets', a)), 'index.html']) {
    const text = await readFile(path.join(server.webDir, file), 'utf8')
    t.notMatch(text, /\bhttps?:\/\/(?!127\.0\.0\.1|localhost)/, `${file}: no network URL`)
    t.notMatch(
      text,
      /localStorage\.setItem|sessionStorage\.setItem/,
      `${file}: no web storage writes`,
    )
  }
})

t.test('sign up, sign in; no token reachable from page JavaScript', async (t) => {
  const context = await newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(server.origin)
  const email = newEmail('signup')
  await signIn(page, email, 'sign-up')
  t.equal(await page.getByTestId('me-email').textContent(), email)
  await page.getByTestId('session-row').first().waitFor()
  t.equal(await page.getByTestId('session-row').count(), 1, 'one session listed')
  t.equal(await page.getByTestId('current-session').count(), 1, 'this one marked')
  t.equal(await page.getByTestId('revoke-session').count(), 0, 'and not revocable from here')
  t.match(await page.getByTestId('countdown').textContent(), /^\d\.\d s$/, 'countdown runs')

  const secrets = await visibleSecrets(page)
  t.equal(secrets.cookie, '', 'document.cookie shows no session cookie')
  t.same(secrets.local, [], 'localStorage is empty')
  t.same(secrets.session, [], 'sessionStorage is empty')
  const cookies = await context.cookies()
  t.same(cookies.map((c) => c.name).sort(), ['bw_access', 'bw_refresh'], 'the browser holds both')
  for (const cookie of cookies) t.ok(cookie.httpOnly, `${cookie.name} is HttpOnly`)
  const html = await page.content()
  for (const cookie of cookies)
    t.notOk(html.includes(cookie.value), `${cookie.name} not in the DOM`)
  await screenshot(page, 'signed-in.png')

  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor()
  t.match(await page.getByTestId('notice').textContent(), /Signed out/)
  t.same(await cookieNames(context), [], 'sign-out clears the cookies')

  await signIn(page, email, 'sign-in')
  t.equal(await page.getByTestId('me-email').textContent(), email, 'signs in again')
  t.same(
    await visibleSecrets(page),
    { cookie: '', local: [], session: [] },
    'still nothing in JS after sign-in',
  )
  await page.reload()
  await page.getByTestId('me-email').waitFor()
  t.pass('a reload keeps the user signed in')
})

t.test('after expiry, an action renews with exactly one refresh', async (t) => {
  const context = await newContext({ clock: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(server.origin)
  await signIn(page, newEmail('action'), 'sign-up')
  await page.getByTestId('session-row').first().waitFor()
  // The lid stays shut: the page still believes its token fresh, so only the server can tell.
  const open = await sleepLid(context)
  await sleep(PAST_EXPIRY_MS)
  t.ok(await accessTokenExpired(context), 'the access cookie is still sent; its token has expired')
  const refreshes = new RefreshCounter(page)
  const changed = page.waitForResponse(
    (response) =>
      new URL(response.url()).pathname === '/trpc/auth.changePassword' && response.status() === 200,
    { timeout: UI_WAIT_MS },
  )
  await page.getByTestId('current-password').fill(PASSWORD)
  await page.getByTestId('new-password').fill('an even sturdier passphrase 43')
  await page.getByTestId('change-password').click()
  await changed
  // Counted up to the action's own answer. What follows is the page's next call: with the
  // lid shut the page never renews ahead, so on a loaded machine (two argon2 hashes in the
  // change) the list's refetch can meet the fresh 3 s token expired and rightly refresh again.
  const forTheAction = { count: refreshes.count, statuses: [...refreshes.statuses] }
  await page.getByText('Password changed.').waitFor({ timeout: UI_WAIT_MS })
  t.equal(forTheAction.count, 1, 'one refresh on the wire')
  t.same(forTheAction.statuses, [200], 'and it succeeded')
  t.same(await cookieNames(context), ['bw_access', 'bw_refresh'], 'a fresh access cookie')
  await open()
  await sleep(500)
  t.equal(await page.getByTestId('me-email').count(), 1, 'still signed in after waking')
})

t.test('after expiry, a reload renews with exactly one refresh', async (t) => {
  const context = await newContext({ clock: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(server.origin)
  const email = newEmail('reload')
  await signIn(page, email, 'sign-up')
  await page.getByTestId('session-row').first().waitFor()
  const open = await sleepLid(context)
  await sleep(PAST_EXPIRY_MS)
  t.ok(await accessTokenExpired(context), 'the access cookie is still sent; its token has expired')
  const refreshes = new RefreshCounter(page)
  await page.reload()
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  t.equal(await page.getByTestId('me-email').textContent(), email, 'signed in after the reload')
  await page.getByTestId('session-row').first().waitFor()
  t.equal(refreshes.count, 1, 'one refresh on the wire')
  t.same(refreshes.statuses, [200], 'and it succeeded')
  await open()
})

t.test('two tabs waking after expiry at once both stay signed in', async (t) => {
  const context = await newContext({ clock: true })
  t.teardown(() => context.close())
  const first = await context.newPage()
  await first.goto(server.origin)
  const email = newEmail('tabs')
  await signIn(first, email, 'sign-up')
  const second = await context.newPage()
  await second.goto(server.origin)
  await second.getByTestId('me-email').waitFor()
  for (const page of [first, second]) await page.getByTestId('session-row').first().waitFor()

  const open = await sleepLid(context)
  await sleep(PAST_EXPIRY_MS)
  t.ok(await accessTokenExpired(context), 'the access cookie is still sent; its token has expired')
  const refreshes = new RefreshCounter(context)
  await open()
  // No poll: the user comes back to both tabs at once; each re-reads on focus, finding the token expired.
  await Promise.all(
    [first, second].map((page) => page.evaluate(() => window.dispatchEvent(new Event('focus')))),
  )
  // Bounded: until a refresh answered and both tabs re-read with the new token.
  for (let i = 0; i < 40 && refreshes.statuses.length === 0; i++) await sleep(50)
  await sleep(800)
  t.ok(refreshes.count >= 1, `refreshed (${refreshes.count} request(s) on the wire)`)
  t.notOk(refreshes.statuses.includes(401), 'no refresh was rejected')
  t.same(refreshes.statuses, new Array(refreshes.count).fill(200), 'every refresh succeeded')
  // The client serialises tab refreshes under a Web Lock; a tab that takes the lock
  // before hearing its peer's outcome refreshes once more with the new cookie.
  const tabs = refreshes.requests.map((request) => (request.frame().page() === first ? 1 : 2))
  t.comment(`refresh requests by tab: ${JSON.stringify(tabs)}`)
  t.ok(refreshes.count <= 2, 'at most one refresh per tab')
  for (const [name, page] of Object.entries({ first, second })) {
    t.equal(await page.getByTestId('me-email').textContent(), email, `${name} tab signed in`)
    t.equal(await page.getByTestId('sign-in').count(), 0, `${name} tab shows no sign-in form`)
  }
  // And they keep working on the renewed session.
  await sleep(2500)
  t.notOk(refreshes.statuses.includes(401), 'later refreshes too')
  for (const page of [first, second]) t.equal(await page.getByTestId('me-email').count(), 1)
})

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
