import type { Page } from 'playwright-core'
import t from 'tap'
import {
  guardNetwork,
  launchBrowser,
  newEmail,
  serveBuiltApp,
  signIn,
  sleep,
  UI_WAIT_MS,
} from './support.js'

const server = await serveBuiltApp(t, { ACCESS_TOKEN_TTL: '3s', CLOCK_LEEWAY: '0s' })
const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []

async function newContext() {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  return context
}

/** Waits (bounded) for the sign-in form; resolves to how long it took. */
async function signedOutWithin(page: Page, ms: number): Promise<number> {
  const started = Date.now()
  await page.getByTestId('sign-in').waitFor({ timeout: ms })
  return Date.now() - started
}

t.test('revoking this session from another browser signs it out within seconds', async (t) => {
  const email = newEmail('revoke')
  const mine = await newContext()
  const theirs = await newContext()
  t.teardown(() => Promise.all([mine.close(), theirs.close()]))
  const victim = await mine.newPage()
  await victim.goto(server.origin)
  await signIn(victim, email, 'sign-up')
  const other = await theirs.newPage()
  await other.goto(server.origin)
  await signIn(other, email, 'sign-in')

  await other.getByTestId('revoke-session').waitFor()
  t.equal(await other.getByTestId('session-row').count(), 2, 'two sessions listed')
  t.equal(await other.getByTestId('revoke-session').count(), 1, 'the other one is revocable')
  // No poll: the victim's list learns of the second session when its window is focused again.
  await victim.evaluate(() => window.dispatchEvent(new Event('focus')))
  await victim.getByTestId('revoke-session').waitFor({ timeout: UI_WAIT_MS })
  await other.getByTestId('revoke-session').click()
  const took = await signedOutWithin(victim, 6000)
  t.ok(took < 6000, `signed out ${took} ms after the revocation`)
  t.match(await victim.getByTestId('notice').textContent(), /session was ended/i, 'says why')
  await victim.reload()
  await victim.getByTestId('sign-in').waitFor()
  t.equal(await victim.getByTestId('me-email').count(), 0, 'and stays signed out on reload')
  await other.getByTestId('session-row').first().waitFor()
  await sleep(200)
  t.equal(await other.getByTestId('session-row').count(), 1, 'one session left')
  t.equal(await other.getByTestId('me-email').textContent(), email, 'the other stays signed in')
})

t.test('signing out in one tab signs out its peer tabs', async (t) => {
  const context = await newContext()
  t.teardown(() => context.close())
  const first = await context.newPage()
  await first.goto(server.origin)
  await signIn(first, newEmail('peer'), 'sign-up')
  const second = await context.newPage()
  await second.goto(server.origin)
  await second.getByTestId('me-email').waitFor()
  await first.getByTestId('sign-out').click()
  await first.getByTestId('sign-in').waitFor()
  const took = await signedOutWithin(second, 5000)
  t.ok(took < 5000, `peer tab signed out after ${took} ms`)
  t.match(await second.getByTestId('notice').textContent(), /another tab/)
})

t.test('sign out everywhere signs out every tab and every device', async (t) => {
  const email = newEmail('everywhere')
  const mine = await newContext()
  const theirs = await newContext()
  t.teardown(() => Promise.all([mine.close(), theirs.close()]))
  const first = await mine.newPage()
  await first.goto(server.origin)
  await signIn(first, email, 'sign-up')
  const second = await mine.newPage()
  await second.goto(server.origin)
  await second.getByTestId('me-email').waitFor()
  const elsewhere = await theirs.newPage()
  await elsewhere.goto(server.origin)
  await signIn(elsewhere, email, 'sign-in')

  await first.getByTestId('sign-out-everywhere').click()
  await first.getByTestId('sign-in').waitFor()
  t.match(await first.getByTestId('notice').textContent(), /every device/)
  const [tab, device] = await Promise.all([
    signedOutWithin(second, 5000),
    signedOutWithin(elsewhere, 6000),
  ])
  t.pass(`other tab after ${tab} ms, other device after ${device} ms`)
  t.same(await mine.cookies(), [], 'cookies cleared')
  for (const page of [first, second, elsewhere]) {
    await page.reload()
    await page.getByTestId('sign-in').waitFor()
  }
  t.pass('all stay signed out after a reload')
})

t.test('changing the password ends the other sessions', async (t) => {
  const email = newEmail('password')
  const mine = await newContext()
  const theirs = await newContext()
  t.teardown(() => Promise.all([mine.close(), theirs.close()]))
  const page = await mine.newPage()
  await page.goto(server.origin)
  await signIn(page, email, 'sign-up')
  const elsewhere = await theirs.newPage()
  await elsewhere.goto(server.origin)
  await signIn(elsewhere, email, 'sign-in')

  await page.getByTestId('new-password').fill('short')
  await page.getByTestId('current-password').fill('a sturdy passphrase 42')
  await page.getByTestId('change-password').click()
  await page.getByText(/too weak/).waitFor()
  t.pass('a weak new password is refused in words')

  await page.getByTestId('new-password').fill('an even sturdier passphrase 43')
  await page.getByTestId('change-password').click()
  await page.getByText('Password changed.').waitFor()
  await signedOutWithin(elsewhere, 6000)
  t.pass('the other device was signed out')
  t.equal(await page.getByTestId('me-email').textContent(), email, 'this one stays signed in')
  await elsewhere.getByTestId('email').fill(email)
  await elsewhere.getByTestId('password').fill('an even sturdier passphrase 43')
  await elsewhere.getByTestId('sign-in').click()
  await elsewhere.getByTestId('me-email').waitFor()
  t.pass('the new password signs in')
})

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
