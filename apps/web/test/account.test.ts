import type { Page, Request } from 'playwright-core'
import t, { type Test } from 'tap'
import { linkIn, startSmtpServer } from './smtp.js'
import {
  guardNetwork,
  launchBrowser,
  newEmail,
  PASSWORD,
  serveBuiltApp,
  signIn,
  sleep,
  UI_WAIT_MS,
} from './support.js'

// Issue #14: the pages behind mailed links, driven through a real SMTP server on loopback.
const NEW_PASSWORD = 'a different passphrase 77'
const INVALID_LINK = /invalid or has expired/

const smtp = await startSmtpServer()
t.teardown(smtp.close)
// Build, server and browser start together: most of this file's time is start-up.
const [server, browser] = await Promise.all([
  serveBuiltApp(t, (port) => ({
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Breakwater <no-reply@example.com>',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    // Several mails per address in one file; the default (3 per 15 min) is for production.
    MAIL_LIMIT: '20/15m',
  })),
  launchBrowser(),
])
t.teardown(() => browser.close())
const { origin } = server
const offenders: string[] = []
const context = await browser.newContext()
guardNetwork(context, offenders)
t.teardown(() => context.close())
const page = await context.newPage()

/** Every request the page makes, with the headers it went out with. */
const sent: { request: Request; url: string }[] = []
page.on('request', (request) => sent.push({ request, url: request.url() }))

/** Fills the sign-in form with a password that must fail; returns what the form says. */
async function refusedSignIn(page: Page, email: string, password: string): Promise<string | null> {
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('sign-in').click()
  const error = page.getByTestId('sign-in-form').getByTestId('error')
  await error.waitFor({ timeout: UI_WAIT_MS })
  return error.textContent()
}

/** Opens a mailed link; the token must be gone from the address bar, and from every request after the page's own. */
async function openLink(t: Test, link: URL, testid: string): Promise<void> {
  const token = link.searchParams.get('token') ?? ''
  const from = sent.length
  await page.goto(link.href)
  await page.getByTestId(testid).waitFor({ timeout: UI_WAIT_MS })
  t.equal(page.url(), `${origin}${link.pathname}`, 'the token is gone from the address bar')
  t.notMatch(
    await page.evaluate(() => JSON.stringify(history.state) + location.href),
    token,
    'and from the history entry',
  )
  const later = sent.slice(from + 1)
  t.ok(later.length > 0, 'the page made requests')
  const leaks: string[] = []
  for (const { request, url } of later) {
    const referer = (await request.allHeaders()).referer ?? ''
    if (url.includes(token) || referer.includes(token)) leaks.push(url)
  }
  t.same(leaks, [], 'no request after the page itself names the token (URL or Referer)')
}

let email = newEmail('account')

t.test('forgot password, end to end through SMTP', async (t) => {
  await page.goto(origin)
  await signIn(page, email, 'sign-up')
  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor()

  await page.getByTestId('email').fill(email)
  await page.getByTestId('forgot-password').click()
  await page.getByTestId('forgot-password-form').waitFor()
  t.equal(new URL(page.url()).pathname, '/forgot-password', 'a page of its own')
  t.equal(await page.getByTestId('forgot-email').inputValue(), email, 'the address came along')
  await page.getByTestId('send-reset-link').click()
  const notice = page.getByTestId('forgot-password-form').getByTestId('notice')
  await notice.waitFor()
  t.match(await notice.textContent(), /If an account exists/)

  const mail = await smtp.next(email)
  const link = linkIn(mail, 'reset-password')
  t.equal(link.origin, origin, 'the link points at PUBLIC_URL')
  // Outside the browser, so the page's own request log stays the browser's.
  const served = await fetch(link.href, { headers: { accept: 'text/html' } })
  t.equal(served.headers.get('referrer-policy'), 'no-referrer', 'the server says no Referer too')
  await openLink(t, link, 'reset-password-form')
  t.equal(
    await page.locator('meta[name="referrer"]').getAttribute('content'),
    'no-referrer',
    'the page sends no Referer',
  )

  const form = page.getByTestId('reset-password-form')
  await page.getByTestId('new-password').fill(NEW_PASSWORD)
  await page.getByTestId('confirm-password').fill(`${NEW_PASSWORD}!`)
  await page.getByTestId('reset-password').click()
  t.match(await form.getByTestId('error').textContent(), /differ/, 'a typo is caught here')

  // The server checks the policy before it spends the token: the link still works after this.
  await page.getByTestId('new-password').fill('short')
  await page.getByTestId('confirm-password').fill('short')
  await page.getByTestId('reset-password').click()
  await form
    .getByTestId('error')
    .filter({ hasText: /too weak/ })
    .waitFor({ timeout: UI_WAIT_MS })
  t.pass('a weak password is refused')

  await page.getByTestId('new-password').fill(NEW_PASSWORD)
  await page.getByTestId('confirm-password').fill(NEW_PASSWORD)
  await page.getByTestId('reset-password').click()
  await form.getByTestId('notice').waitFor({ timeout: UI_WAIT_MS })
  t.match(await form.getByTestId('notice').textContent(), /password is changed/)
  t.equal(await page.getByTestId('new-password').isVisible(), false, 'the form is done')

  await page.getByTestId('sign-in-link').click()
  await page.getByTestId('sign-in-form').waitFor()
  t.equal(new URL(page.url()).pathname, '/')
  t.equal(await refusedSignIn(page, email, PASSWORD), 'Wrong email or password.', 'old password')
  await signIn(page, email, 'sign-in', NEW_PASSWORD)
  t.equal(await page.getByTestId('me-email').textContent(), email, 'the new password works')

  t.test('the used link, a made-up one and none at all are refused in words', async (t) => {
    await openLink(t, link, 'reset-password-form')
    await page.getByTestId('new-password').fill('yet another passphrase 3')
    await page.getByTestId('confirm-password').fill('yet another passphrase 3')
    await page.getByTestId('reset-password').click()
    await form.getByTestId('request-new-link').waitFor({ timeout: UI_WAIT_MS })
    t.match(await form.getByTestId('error').textContent(), INVALID_LINK, 'used')
    t.equal(await page.getByTestId('new-password').isVisible(), false, 'no form for a dead link')

    await page.goto(`${origin}/reset-password?token=made-up-token-of-some-length`)
    await page.getByTestId('new-password').fill('yet another passphrase 3')
    await page.getByTestId('confirm-password').fill('yet another passphrase 3')
    await page.getByTestId('reset-password').click()
    await form.getByTestId('request-new-link').waitFor({ timeout: UI_WAIT_MS })
    t.match(await form.getByTestId('error').textContent(), INVALID_LINK, 'made up')

    // Malformed tokens never reach a lookup (the server's input check): same words.
    await page.goto(`${origin}/verify-email?token=bad`)
    await page.locator('[data-testid="link-page"][data-state="failed"]').waitFor()
    t.match(await page.getByTestId('link-page').getByTestId('error').textContent(), INVALID_LINK)

    await page.goto(`${origin}/reset-password`)
    t.match(await form.getByTestId('error').textContent(), /needs the link/, 'no token')
    await page.getByTestId('request-new-link').click()
    await page.getByTestId('forgot-password-form').waitFor()
    t.pass('offers a new link')
  })
})

t.test('verifying the address from the signed-in page', async (t) => {
  await page.goto(origin)
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  const status = page.getByTestId('email-status')
  t.equal(await status.textContent(), 'Not verified')
  await page.getByTestId('send-verification').click()
  await page.getByTestId('verify-email-form').getByTestId('notice').waitFor()

  await openLink(t, linkIn(await smtp.next(email), 'verify-email'), 'link-page')
  await page
    .locator('[data-testid="link-page"][data-state="done"]')
    .waitFor({ timeout: UI_WAIT_MS })
  t.match(await page.getByTestId('link-page').textContent(), /is verified/)
  await page.getByTestId('continue').click()
  await page.locator('[data-testid="email-status"][data-verified="true"]').waitFor()
  t.equal(await status.textContent(), 'Verified')
  t.equal(await page.getByTestId('send-verification').isVisible(), false, 'nothing left to send')
})

t.test('changing the address through the mailed link', async (t) => {
  const card = page.getByTestId('change-email-form')
  const next = newEmail('moved')
  await page.getByTestId('new-email').fill(next)
  await page.getByTestId('change-email-password').fill('not my passphrase at all')
  await page.getByTestId('change-email').click()
  await card.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.equal(await card.getByTestId('error').textContent(), 'The current password is wrong.')

  await page.getByTestId('new-email').fill(next)
  await page.getByTestId('change-email-password').fill(NEW_PASSWORD)
  await page.getByTestId('change-email').click()
  await card.getByTestId('notice').waitFor({ timeout: UI_WAIT_MS })
  t.match(await card.getByTestId('notice').textContent(), /changes when you open it/)
  t.equal(await page.getByTestId('me-email').textContent(), email, 'not changed yet')

  const notice = await smtp.next(email)
  t.match(notice.text, next, 'the old address is told where the account is moving')
  await openLink(t, linkIn(await smtp.next(next), 'confirm-email-change'), 'link-page')
  await page
    .locator('[data-testid="link-page"][data-state="done"]')
    .waitFor({ timeout: UI_WAIT_MS })
  t.match(await page.getByTestId('link-page').textContent(), /is changed/)

  await page.getByTestId('continue').click()
  await page.getByTestId('me-email').filter({ hasText: next }).waitFor({ timeout: UI_WAIT_MS })
  t.pass('the signed-in page shows the new address')
  email = next
})

t.test('deleting the account', async (t) => {
  const form = page.getByTestId('delete-account-form')
  await page.getByTestId('delete-password').fill(NEW_PASSWORD)
  await page.getByTestId('delete-account').click()
  t.match(await form.getByTestId('error').textContent(), /Tick the box/, 'asks to confirm')

  await page.getByTestId('delete-confirm').check()
  await page.getByTestId('delete-password').fill('not my passphrase at all')
  await page.getByTestId('delete-account').click()
  await form.getByTestId('error').filter({ hasText: 'wrong' }).waitFor({ timeout: UI_WAIT_MS })
  t.equal(await form.getByTestId('error').textContent(), 'The current password is wrong.')

  await page.getByTestId('delete-password').fill(NEW_PASSWORD)
  await page.getByTestId('delete-account').click()
  await page.getByTestId('sign-in-form').waitFor({ timeout: UI_WAIT_MS })
  t.match(await page.getByTestId('notice').textContent(), /account was deleted/)
  t.same(
    (await context.cookies()).map((cookie) => cookie.name),
    [],
    'no session cookies are left',
  )
  t.equal(await refusedSignIn(page, email, NEW_PASSWORD), 'Wrong email or password.', 'gone')
})

t.test('signing in with a mailed code, and staying signed in', async (t) => {
  const address = newEmail('code')
  await page.goto(origin)
  await signIn(page, address, 'sign-up')
  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor()
  // A fresh load: this tab's client starts out knowing of no session.
  await page.reload()
  await page.getByTestId('email').fill(address)
  await page.getByTestId('use-code').click()
  const form = page.getByTestId('sign-in-code-form')
  await form.waitFor()
  await page.getByTestId('send-code').click()
  await page.getByTestId('code').waitFor()

  const code = (await smtp.next(address)).text.match(/\b\d{6}\b/)?.[0] ?? ''
  t.match(code, /^\d{6}$/, 'the mail has a code')
  const wrong = code === '000000' ? '111111' : '000000'
  await page.getByTestId('code').fill(wrong)
  await page.getByTestId('sign-in-with-code').click()
  await form.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.match(await form.getByTestId('error').textContent(), /code is wrong/)

  await page.getByTestId('code').fill(code)
  await page.getByTestId('sign-in-with-code').click()
  await page.getByTestId('me-email').filter({ hasText: address }).waitFor({ timeout: UI_WAIT_MS })
  t.equal(new URL(page.url()).pathname, '/', 'back at the app')

  // The client renews the 3 s access token of a code sign-in like a password one's,
  // on the next call after expiry (no poll: the user comes back to the window).
  const countdown = page.getByTestId('countdown')
  const first = await countdown.getAttribute('data-expires-at')
  await sleep(Math.max(0, new Date(first ?? 0).getTime() - Date.now()) + 200)
  await page.evaluate(() => window.dispatchEvent(new Event('focus')))
  let renewed = first
  for (let i = 0; i < 40 && renewed === first; i++) {
    await sleep(200)
    renewed = await countdown.getAttribute('data-expires-at')
  }
  t.not(renewed, first, 'the access token was renewed')
  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor()
  t.notMatch(await page.getByTestId('notice').textContent(), /ended|expired/, 'a plain sign-out')
})

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
