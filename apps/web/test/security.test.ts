import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateHOTP } from '@oslojs/otp'
import jsqr from 'jsqr'
import type { Page } from 'playwright-core'
import t from 'tap'
import {
  builtWeb,
  guardNetwork,
  launchBrowser,
  newEmail,
  PASSWORD,
  screenshot,
  signIn,
  sleep,
  startServer,
  UI_WAIT_MS,
} from './support.js'

// SPEC §10 in the browser: an authenticator app (TOTP) set up through the
// Security card, the second step at sign-in, recovery codes, and the step-up
// dialog. Two servers on one build: one with the default step-up window (10 min,
// so setting up never asks again), one with a 3-second window for the dialog.
const STEP_UP_S = 3
const NEW_PASSWORD = 'a different passphrase 77'

// A CommonJS module whose types say `export default`: under NodeNext that is `.default`.
const jsQR = jsqr.default

/** RFC 6238 as the server runs it (SPEC §10): 30-second steps, 6 digits, ±1 step. */
const STEP_MS = UI_WAIT_MS
/** A code must still be in the server's window when it gets there: this much for the trip. */
const SLACK_MS = 2000

/**
 * The authenticator app of the test. The server takes a step once, and never
 * one before a step it took (replay), but any of now−1, now, now+1: so each
 * code is the step after the last one used, and no earlier than now−1 (with
 * SLACK_MS to spare). Three uses in a row fit without waiting for the clock.
 */
class Authenticator {
  readonly #key: Uint8Array
  #last = Number.NEGATIVE_INFINITY

  constructor(secret: string) {
    this.#key = decodeBase32IgnorePadding(secret)
  }

  #codeAt(step: number): string {
    return generateHOTP(this.#key, BigInt(step), 6)
  }

  /** A code the server accepts once. Waits (bounded, under a step) only when the last ones ran ahead of the clock. */
  async next(): Promise<string> {
    const step = Math.max(this.#last + 1, Math.floor((Date.now() + SLACK_MS) / STEP_MS) - 1)
    // Accepted once the server's step is step − 1.
    const wait = (step - 1) * STEP_MS - Date.now()
    if (wait > STEP_MS) throw new Error('the test used more codes than the window holds')
    if (wait > 0) await sleep(wait + 100)
    this.#last = step
    return this.#codeAt(step)
  }

  /** Six digits that no step near now gives. */
  wrong(): string {
    const now = Math.floor(Date.now() / STEP_MS)
    const near = new Set([-2, -1, 0, 1, 2].map((offset) => this.#codeAt(now + offset)))
    let code = 123456
    while (near.has(String(code))) code = (code + 1) % 1_000_000
    return String(code).padStart(6, '0')
  }
}

/** The QR code as the page drew it, rasterised in the page and read back with a QR decoder. */
async function scanQr(page: Page): Promise<string | undefined> {
  const image = await page.getByTestId('totp-qr').evaluate(async (figure) => {
    const svg = figure.querySelector('svg')
    if (!svg) return undefined
    const size = svg.viewBox.baseVal.width * 4
    const img = new Image()
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(svg))}`
    await img.decode()
    const canvas = document.createElement('canvas')
    canvas.width = size
    canvas.height = size
    const context = canvas.getContext('2d')!
    context.imageSmoothingEnabled = false
    context.drawImage(img, 0, 0, size, size)
    return { size, pixels: Array.from(context.getImageData(0, 0, size, size).data) }
  })
  if (!image) return undefined
  return jsQR(Uint8ClampedArray.from(image.pixels), image.size, image.size)?.data
}

/** Email and password, then the sign-in button: the second-factor form (or the signed-in page) follows. */
async function startSignIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('sign-in').click()
}

async function signOut(page: Page): Promise<void> {
  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor({ timeout: UI_WAIT_MS })
}

// Build and browser start together; then both servers on the one build.
const [browser, webDir] = await Promise.all([launchBrowser(), builtWeb()])
t.teardown(() => browser.close())
const [server, stepUpServer] = await Promise.all([
  startServer(webDir),
  // Access tokens that outlive the test: the calls counted below are then refused for
  // step-up only, never for a token that expired on its way on a loaded machine.
  startServer(webDir, { STEP_UP_MAX_AGE: `${STEP_UP_S}s`, ACCESS_TOKEN_TTL: '10m' }),
])
t.teardown(server.stop)
t.teardown(stepUpServer.stop)
const offenders: string[] = []

/** One context per test: cookies are per host, not per port, so the two servers must not share a jar. */
async function newPage(t: { teardown(fn: () => unknown): void }): Promise<Page> {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  t.teardown(() => context.close())
  return context.newPage()
}

t.test('an authenticator app: set up, second step, recovery codes, turned off', async (t) => {
  const page = await newPage(t)
  const email = newEmail('totp')
  await page.goto(server.origin)
  await signIn(page, email, 'sign-up')
  const card = page.getByTestId('security-card')
  const cardError = card.getByTestId('error')
  const cardNotice = card.getByTestId('notice')

  // Set up: the QR code, drawn in the page, holds the same key as the text beside it.
  await card.getByTestId('totp-setup').click()
  await card.getByTestId('totp-qr').waitFor({ timeout: UI_WAIT_MS })
  const secret = ((await card.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '')
  t.match(secret, /^[A-Z2-7]{32}$/, 'the key is shown for typing in: 160 bits in base32')
  const uri = (await card.getByTestId('totp-uri').getAttribute('href')) ?? ''
  const parsed = new URL(uri)
  t.equal(`${parsed.protocol}//${parsed.host}`, 'otpauth://totp', 'an otpauth TOTP URI')
  t.equal(parsed.searchParams.get('secret'), secret, 'naming the key shown')
  t.match(decodeURIComponent(parsed.pathname), email, 'and the account')
  t.equal(await scanQr(page), uri, 'the QR code decodes to that URI')
  await screenshot(page, 'totp-setup.png')

  const app = new Authenticator(secret)
  await card.getByTestId('totp-code').fill(app.wrong())
  await card.getByTestId('totp-confirm').click()
  await cardError.waitFor({ timeout: UI_WAIT_MS })
  t.match(await cardError.textContent(), /wrong or was used/, 'a wrong code does not turn it on')
  await card.getByTestId('totp-code').fill(await app.next())
  await card.getByTestId('totp-confirm').click()
  const codeList = card.getByTestId('recovery-codes')
  await codeList.locator('li').first().waitFor({ timeout: UI_WAIT_MS })
  const recoveryCodes = (await codeList.locator('li').allTextContents()).map((code) => code.trim())
  t.equal(recoveryCodes.length, 10, '10 recovery codes are shown')
  t.equal(new Set(recoveryCodes).size, 10, 'all different')
  t.equal(await card.getByTestId('totp-secret').textContent(), '', 'the key has left the page')
  t.equal(await card.getByTestId('totp-qr').count(), 0, 'and so has the QR code')
  t.equal(await card.getByTestId('totp-status').getAttribute('data-enabled'), 'true', 'on')
  await card.getByTestId('recovery-codes-saved').click()
  t.equal(await codeList.locator('li').count(), 0, '“I saved them” removes the codes from the page')
  t.ok(
    await card.getByTestId('totp-disable-form').isVisible(),
    'the card now offers turning it off',
  )

  // Sign-in now takes a second step.
  await signOut(page)
  await startSignIn(page, email)
  const secondFactor = page.getByTestId('second-factor-form')
  await secondFactor.waitFor({ timeout: UI_WAIT_MS })
  t.equal(await page.getByTestId('me-email').count(), 0, 'the password alone does not sign in')
  await page.getByTestId('second-factor-code').fill(app.wrong())
  await page.getByTestId('verify-second-factor').click()
  await secondFactor.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.match(await secondFactor.getByTestId('error').textContent(), /wrong/, 'a wrong code is refused')
  await page.getByTestId('second-factor-code').fill(await app.next())
  await page.getByTestId('verify-second-factor').click()
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  t.pass('the current code signs in')

  // A recovery code instead, once each.
  await signOut(page)
  await startSignIn(page, email)
  await secondFactor.waitFor({ timeout: UI_WAIT_MS })
  await page.getByTestId('use-recovery-code').check()
  await page.getByTestId('second-factor-code').fill(recoveryCodes[0]!)
  await page.getByTestId('verify-second-factor').click()
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  t.pass('a recovery code signs in')
  await signOut(page)
  await startSignIn(page, email)
  await secondFactor.waitFor({ timeout: UI_WAIT_MS })
  await page.getByTestId('use-recovery-code').check()
  await page.getByTestId('second-factor-code').fill(recoveryCodes[0]!)
  await page.getByTestId('verify-second-factor').click()
  await secondFactor.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.pass('the same recovery code does not work twice')
  await page.getByTestId('second-factor-code').fill(recoveryCodes[1]!)
  await page.getByTestId('verify-second-factor').click()
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  t.pass('another one does')

  // A fresh page does not know the app is on: asking to set one up finds out.
  await card.getByTestId('totp-setup').click()
  await card.getByTestId('totp-disable-form').waitFor({ state: 'visible', timeout: UI_WAIT_MS })
  t.match(
    await cardNotice.textContent(),
    /already set up/,
    'MFA_ALREADY_ENABLED leads to turning it off',
  )
  await card.getByTestId('totp-disable-code').fill(await app.next())
  await card.getByTestId('totp-disable').click()
  await cardNotice.filter({ hasText: /turned off/ }).waitFor({ timeout: UI_WAIT_MS })
  t.ok(await card.getByTestId('totp-setup').isVisible(), 'turned off: set-up is offered again')
  await signOut(page)
  await startSignIn(page, email)
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
  t.equal(await secondFactor.count(), 0, 'the password alone signs in again')
})

t.test('step-up: the re-authentication dialog, then the change goes through', async (t) => {
  const page = await newPage(t)
  const email = newEmail('step-up')
  const changes: number[] = []
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/trpc/auth.changePassword')
      changes.push(response.status())
  })
  await page.goto(stepUpServer.origin)
  await signIn(page, email, 'sign-up')
  // `auth_time` is whole seconds: past the window for sure, and still bounded.
  await sleep(STEP_UP_S * 1000 + 600)

  const form = page.locator('form', { has: page.getByTestId('change-password') })
  const dialog = page.getByTestId('reauth-dialog')
  await page.getByTestId('current-password').fill(PASSWORD)
  await page.getByTestId('new-password').fill(NEW_PASSWORD)
  await page.getByTestId('change-password').click()
  await dialog.waitFor({ state: 'visible', timeout: UI_WAIT_MS })
  t.pass('an old proof of the password opens the dialog')
  await screenshot(page, 'reauth-dialog.png')
  await page.getByTestId('reauth-cancel').click()
  await form.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.match(
    await form.getByTestId('error').textContent(),
    /confirm it is you/,
    'cancel: the change fails, saying why',
  )
  t.equal(await dialog.count(), 0, 'the dialog is gone')
  t.equal(
    await page.getByTestId('current-password').inputValue(),
    PASSWORD,
    'the form keeps what was typed',
  )

  await page.getByTestId('change-password').click()
  await dialog.waitFor({ state: 'visible', timeout: UI_WAIT_MS })
  await page.getByTestId('reauth-password').fill('not the password at all')
  await page.getByTestId('reauth-submit').click()
  await dialog.getByTestId('error').waitFor({ timeout: UI_WAIT_MS })
  t.match(
    await dialog.getByTestId('error').textContent(),
    /wrong/,
    'a wrong password is said in the dialog',
  )
  await page.getByTestId('reauth-password').fill(PASSWORD)
  await page.getByTestId('reauth-submit').click()
  await form
    .getByTestId('notice')
    .filter({ hasText: /Password changed/ })
    .waitFor({ timeout: UI_WAIT_MS })
  t.pass('the password confirmed, the change went through without retyping the form')
  t.equal(await dialog.count(), 0, 'the dialog closed')
  t.same(
    changes,
    [401, 401, 200],
    'refused twice, then retried once by the client after the dialog',
  )

  await signOut(page)
  await signIn(page, email, 'sign-in', NEW_PASSWORD)
  t.pass('the new password signs in')
})

t.test('nothing left this machine', async (t) => {
  t.same(offenders, [])
})
