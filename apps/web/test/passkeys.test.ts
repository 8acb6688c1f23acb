import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateTOTP } from '@oslojs/otp'
import type { BrowserContext, CDPSession, Page, Request, Response } from 'playwright-core'
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

// Passkeys (SPEC §10) in a real Chromium, with the DevTools virtual
// authenticator standing in for the device: added and listed on the Security
// card, a sign-in with the passkey alone, renamed, a second one, one removed
// (and then refused), a cancelled ceremony; a passkey as the second step of a
// TOTP account's sign-in; and the re-authentication dialog answered with one.
//
// WebAuthn refuses IP addresses as RP IDs: the server's RP ID is `localhost`,
// so the page is opened at http://localhost:<port> (a secure context), not
// 127.0.0.1.

/** The step-up window of the second server: short, so the dialog shows within a test. */
const STEP_UP_S = 4
const WAIT = { timeout: UI_WAIT_MS }

/** A credential as the DevTools WebAuthn domain hands it out (and takes it back). */
interface VirtualCredential {
  credentialId: string
  isResidentCredential: boolean
  rpId?: string
  privateKey: string
  userHandle?: string
  signCount: number
}

/**
 * The virtual authenticators of one page: internal (platform) ones, discoverable
 * credentials, user verification that succeeds, presence simulated. One is
 * attached at a time in these tests, so which device answers is never left to
 * the browser; a passkey "moves" by its credential (private key included).
 */
class Authenticators {
  private constructor(private readonly cdp: CDPSession) {}

  static async of(context: BrowserContext, page: Page): Promise<Authenticators> {
    const cdp = await context.newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    return new Authenticators(cdp)
  }

  async add(): Promise<string> {
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    })
    return authenticatorId
  }

  async remove(authenticatorId: string): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId })
  }

  async credentials(authenticatorId: string): Promise<VirtualCredential[]> {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId })
    return credentials
  }

  async restore(authenticatorId: string, credential: VirtualCredential): Promise<void> {
    await this.cdp.send('WebAuthn.addCredential', { authenticatorId, credential })
  }

  /** `false`: the device's PIN or biometrics fail, so the browser rejects (NotAllowedError). */
  async verifies(authenticatorId: string, isUserVerified: boolean): Promise<void> {
    await this.cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified })
  }
}

/** DevTools gives credential ids in base64; the wire (and the server) in base64url. */
const base64url = (base64: string) => Buffer.from(base64, 'base64').toString('base64url')

const pathOf = (message: Request | Response) => new URL(message.url()).pathname

/**
 * Every request the page sends from now until the answer to `endPath` arrives:
 * the requests one user action cost. Bounded: rejects after 10 s.
 */
function requestsUntil(page: Page, endPath: string): Promise<string[]> {
  const sent: string[] = []
  return new Promise((resolve, reject) => {
    const onRequest = (request: Request) => sent.push(pathOf(request))
    const onResponse = (response: Response) => {
      if (pathOf(response) !== endPath) return
      stop()
      resolve(sent)
    }
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`no answer to ${endPath} within 10 s; sent ${sent.join(', ')}`))
    }, WAIT.timeout)
    const stop = () => {
      clearTimeout(timer)
      page.off('request', onRequest)
      page.off('response', onResponse)
    }
    page.on('request', onRequest)
    page.on('response', onResponse)
  })
}

/** The claims of the session's access token, read from the (HttpOnly) cookie by the test, not the page. */
async function accessClaims(
  context: BrowserContext,
): Promise<{ amr?: string[]; auth_time?: number; [claim: string]: unknown }> {
  const access = (await context.cookies()).find((cookie) => cookie.name === 'bw_access')
  if (!access) return {}
  return JSON.parse(Buffer.from(access.value.split('.')[1] ?? '', 'base64url').toString('utf8'))
}

/** Until the step-up window of the session's last proof (`auth_time`, whole seconds) has passed. */
async function waitPastStepUp(context: BrowserContext): Promise<void> {
  const { auth_time } = await accessClaims(context)
  if (typeof auth_time !== 'number') throw new Error('the access token has no auth_time')
  const wait = (auth_time + STEP_UP_S + 1) * 1000 - Date.now()
  if (wait > (STEP_UP_S + 2) * 1000) throw new Error('auth_time is in the future')
  if (wait > 0) await sleep(wait)
}

async function signOut(page: Page): Promise<void> {
  await page.getByTestId('sign-out').click()
  await page.getByTestId('sign-in').waitFor(WAIT)
}

/** Email and password, then sign in: the second-factor form (or the signed-in page) follows. */
async function startSignIn(page: Page, email: string): Promise<void> {
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(PASSWORD)
  await page.getByTestId('sign-in').click()
}

/** Adds a passkey through the Security card and waits for the card to say so. */
async function addPasskey(page: Page, name: string): Promise<void> {
  const section = page.getByTestId('passkeys-section')
  await section.getByTestId('passkey-name').fill(name)
  await section.getByTestId('passkey-add').click()
  await section.getByTestId('passkey-notice').filter({ hasText: /added/ }).waitFor(WAIT)
}

/** The names in the passkeys list, in its order. */
async function listedNames(page: Page): Promise<string[]> {
  return page.getByTestId('passkey-row').getByTestId('passkey-row-name').allTextContents()
}

// One build, two servers: the default step-up window (10 min: adding never asks
// again) and a short one for the dialog.
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

/** A fresh context (cookies are per host, not per port), its page, console log, and authenticators. */
async function open(t: { teardown(fn: () => unknown): void }) {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  t.teardown(() => context.close())
  const page = await context.newPage()
  const consoleLines: string[] = []
  page.on('console', (message) => consoleLines.push(message.text()))
  page.on('pageerror', (error) => consoleLines.push(String(error)))
  const authenticators = await Authenticators.of(context, page)
  return { context, page, consoleLines, authenticators }
}

t.test('passkeys: add, list, sign in alone, rename, a second one, remove, cancel', async (t) => {
  const { context, page, consoleLines, authenticators } = await open(t)
  const origin = `http://localhost:${server.port}`
  await page.goto(origin)
  t.equal(await page.evaluate(() => window.isSecureContext), true, 'http://localhost is secure')
  const email = newEmail('passkey')
  await signIn(page, email, 'sign-up')
  const section = page.getByTestId('passkeys-section')
  const rows = section.getByTestId('passkey-row')
  await section
    .getByTestId('passkeys-empty')
    .filter({ hasText: /No passkeys yet/ })
    .waitFor(WAIT)
  t.equal(await rows.count(), 0, 'a new account has no passkey')

  // Add one on the "laptop": the browser creates it, the server stores it, the card lists it.
  const laptop = await authenticators.add()
  await addPasskey(page, 'Laptop')
  t.same(await listedNames(page), ['Laptop'], 'listed under the name given')
  t.equal(
    await rows.first().getByTestId('passkey-synced').getAttribute('data-synced'),
    'false',
    'a device-bound passkey is not shown as synced',
  )
  t.equal(await rows.first().getByTestId('passkey-last-used').textContent(), 'Never', 'never used')
  t.notMatch(await rows.first().getByTestId('passkey-created').textContent(), /Invalid/, 'dated')
  t.equal(await section.getByTestId('passkey-name').inputValue(), '', 'the name field is emptied')
  const onLaptop = await authenticators.credentials(laptop)
  t.equal(onLaptop.length, 1, 'the authenticator holds one credential')
  t.equal(onLaptop[0]?.isResidentCredential, true, 'discoverable: it can sign in alone')
  t.equal(onLaptop[0]?.rpId, 'localhost', 'for the RP ID localhost')
  const laptopId = base64url(onLaptop[0]!.credentialId)
  t.notOk((await page.content()).includes(laptopId), 'the credential id is not in the page')
  await screenshot(page, 'passkeys.png')

  // Signed out, the passkey alone signs in: two requests, options and login.
  await signOut(page)
  const sent = requestsUntil(page, '/trpc/auth.loginWithPasskey')
  const login = page.waitForResponse((r) => pathOf(r) === '/trpc/auth.loginWithPasskey', WAIT)
  // The signed-in page's first call (the login result is its `auth.me`; no poll re-reads it).
  const me = page.waitForResponse((r) => pathOf(r) === '/trpc/sessions.list', WAIT)
  const afterClick: string[] = []
  const record = (request: Request) => afterClick.push(pathOf(request))
  page.on('request', record)
  await page.getByTestId('passkey-sign-in').click()
  const requests = await sent
  await page.getByTestId('me-email').waitFor(WAIT)
  t.equal((await login).status(), 200, 'auth.loginWithPasskey accepted the passkey')
  t.same(
    requests,
    ['/trpc/auth.passkeyOptions', '/trpc/auth.loginWithPasskey'],
    'a passkey sign-in is 2 requests: options, then the signed answer',
  )
  t.comment(`passkey sign-in: ${requests.length} HTTP requests (${requests.join(' → ')})`)
  t.equal(await page.getByTestId('me-email').textContent(), email, 'signed in as its owner')
  t.equal((await me).status(), 200, 'sessions.list answers on the new session')
  page.off('request', record)
  t.notOk(
    afterClick.includes('/trpc/auth.me'),
    `the sign-in's answer says who signed in: no auth.me after it (${afterClick.join(' → ')})`,
  )
  t.same((await accessClaims(context)).amr, ['hwk'], 'the session says amr hwk (device-bound key)')
  await rows.first().waitFor(WAIT)
  t.not(await rows.first().getByTestId('passkey-last-used').textContent(), 'Never', 'now used')

  // Rename, kept across a reload.
  await rows.first().getByTestId('passkey-rename').click()
  await section.getByTestId('passkey-rename-input').fill('Work laptop')
  await section.getByTestId('passkey-rename-save').click()
  await section
    .getByTestId('passkey-notice')
    .filter({ hasText: /renamed/ })
    .waitFor(WAIT)
  t.same(await listedNames(page), ['Work laptop'], 'renamed in the list')
  await page.reload()
  await rows.first().waitFor(WAIT)
  t.same(await listedNames(page), ['Work laptop'], 'and on the server')

  // A second passkey on a second device: the laptop goes (its credential kept by the test).
  const [laptopCredential] = await authenticators.credentials(laptop)
  await authenticators.remove(laptop)
  const phone = await authenticators.add()
  await addPasskey(page, 'Phone')
  t.same((await listedNames(page)).sort(), ['Phone', 'Work laptop'], 'two passkeys listed')
  t.equal((await authenticators.credentials(phone)).length, 1, 'the phone holds the new one')

  // Remove the laptop's: asked once more in the row, then gone.
  const laptopRow = rows.filter({ hasText: 'Work laptop' })
  await laptopRow.getByTestId('passkey-remove').click()
  await laptopRow.getByTestId('passkey-remove-cancel').click()
  t.equal(await rows.count(), 2, '“Keep” keeps it')
  await laptopRow.getByTestId('passkey-remove').click()
  await laptopRow.getByTestId('passkey-remove-confirm').click()
  await section
    .getByTestId('passkey-notice')
    .filter({ hasText: /removed/ })
    .waitFor(WAIT)
  t.same(await listedNames(page), ['Phone'], 'one passkey left')

  // The removed passkey, back on a device, no longer signs in.
  const [phoneCredential] = await authenticators.credentials(phone)
  await authenticators.remove(phone)
  const oldLaptop = await authenticators.add()
  await authenticators.restore(oldLaptop, laptopCredential!)
  await signOut(page)
  const refused = page.waitForResponse((r) => pathOf(r) === '/trpc/auth.loginWithPasskey', WAIT)
  await page.getByTestId('passkey-sign-in').click()
  const refusal = await refused
  t.ok(refusal.request().postData()?.includes(laptopId), 'the browser signed with the removed one')
  t.equal(refusal.status(), 401, 'the server refused it')
  const signInError = page.getByTestId('sign-in-form').getByTestId('error')
  await signInError.waitFor(WAIT)
  t.match(await signInError.textContent(), /passkey was not accepted/, 'and the page says so')
  t.equal(await page.getByTestId('me-email').count(), 0, 'still signed out')

  // The one still registered does, from the same kind of restored device (so the refusal was the server's).
  await authenticators.remove(oldLaptop)
  const phoneAgain = await authenticators.add()
  await authenticators.restore(phoneAgain, phoneCredential!)
  await page.getByTestId('passkey-sign-in').click()
  await page.getByTestId('me-email').waitFor(WAIT)
  t.pass('the remaining passkey signs in')
  await rows.first().waitFor(WAIT)

  // A cancelled ceremony (verification fails, the browser rejects): said, and nothing changes.
  const registrations: string[] = []
  page.on('request', (request) => {
    if (pathOf(request) === '/trpc/passkeys.register') registrations.push(request.url())
  })
  await authenticators.verifies(phoneAgain, false)
  await section.getByTestId('passkey-name').fill('Never added')
  await section.getByTestId('passkey-add').click()
  const cardError = section.getByTestId('passkey-error')
  await cardError.waitFor(WAIT)
  t.match(await cardError.textContent(), /cancelled or timed out/, 'the cancel is said plainly')
  t.match(await cardError.textContent(), /Nothing changed/, 'with nothing changed')
  t.same(registrations, [], 'nothing was sent to register')
  t.equal(await section.getByTestId('passkey-add').isEnabled(), true, 'the form is usable again')
  t.equal((await authenticators.credentials(phoneAgain)).length, 1, 'no credential was made')
  await page.reload()
  await rows.first().waitFor(WAIT)
  t.same(await listedNames(page), ['Phone'], 'the list is unchanged')

  // Cancelled at sign-in: still signed out, told why, no login sent.
  await signOut(page)
  const logins: string[] = []
  page.on('request', (request) => {
    if (pathOf(request) === '/trpc/auth.loginWithPasskey') logins.push(request.url())
  })
  await page.getByTestId('passkey-sign-in').click()
  await signInError.filter({ hasText: /cancelled/ }).waitFor(WAIT)
  t.match(await signInError.textContent(), /not signed in/, 'a cancelled sign-in says so')
  t.same(logins, [], 'and sent no login')
  t.equal(await page.getByTestId('passkey-sign-in').isEnabled(), true, 'and can be tried again')

  // No credential id or token in what the page logged.
  const cookies = (await context.cookies()).map((cookie) => cookie.value).filter(Boolean)
  const logged = consoleLines.join('\n')
  t.notOk(logged.includes(laptopId), 'no credential id in the console')
  t.notOk(
    cookies.some((value) => logged.includes(value)),
    'no cookie value in the console',
  )
})

t.test('a TOTP account: the password, then a passkey as the second step', async (t) => {
  const { context, page, authenticators } = await open(t)
  await page.goto(`http://localhost:${server.port}`)
  const email = newEmail('totp-passkey')
  await signIn(page, email, 'sign-up')
  const card = page.getByTestId('security-card')

  // An authenticator app on (one code), its recovery codes kept.
  await card.getByTestId('totp-setup').click()
  await card.getByTestId('totp-secret').waitFor(WAIT)
  const secret = ((await card.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '')
  await card.getByTestId('totp-code').fill(generateTOTP(decodeBase32IgnorePadding(secret), 30, 6))
  await card.getByTestId('totp-confirm').click()
  const codeList = card.getByTestId('recovery-codes')
  await codeList.locator('li').first().waitFor(WAIT)
  const recoveryCodes = (await codeList.locator('li').allTextContents()).map((code) => code.trim())
  await card.getByTestId('recovery-codes-saved').click()

  // Without a passkey, the second step does not offer one.
  await signOut(page)
  await startSignIn(page, email)
  const secondFactor = page.getByTestId('second-factor-form')
  await secondFactor.waitFor(WAIT)
  t.equal(await page.getByTestId('passkey-second-factor').count(), 0, 'no passkey yet: not offered')
  await page.getByTestId('use-recovery-code').check()
  await page.getByTestId('second-factor-code').fill(recoveryCodes[0]!)
  await page.getByTestId('verify-second-factor').click()
  await page.getByTestId('me-email').waitFor(WAIT)

  await authenticators.add()
  await addPasskey(page, 'Laptop')

  // With one: the password, then the passkey.
  await signOut(page)
  await startSignIn(page, email)
  await secondFactor.waitFor(WAIT)
  t.equal(await page.getByTestId('me-email').count(), 0, 'the password alone does not sign in')
  const sent = requestsUntil(page, '/trpc/auth.verifySecondFactor')
  const verified = page.waitForResponse((r) => pathOf(r) === '/trpc/auth.verifySecondFactor', WAIT)
  await page.getByTestId('passkey-second-factor').click()
  t.same(
    await sent,
    ['/trpc/auth.passkeyOptions', '/trpc/auth.verifySecondFactor'],
    'options for this login, then the answer',
  )
  t.equal((await verified).status(), 200, 'the passkey answered the challenge')
  await page.getByTestId('me-email').waitFor(WAIT)
  t.equal(await page.getByTestId('me-email').textContent(), email, 'signed in')
  t.same((await accessClaims(context)).amr, ['pwd', 'hwk'], 'amr: password, then the device key')
})

t.test('the re-authentication dialog takes a passkey', async (t) => {
  const { context, page, authenticators } = await open(t)
  await page.goto(`http://localhost:${stepUpServer.port}`)
  const email = newEmail('reauth-passkey')
  await signIn(page, email, 'sign-up')
  const section = page.getByTestId('passkeys-section')
  const rows = section.getByTestId('passkey-row')
  const dialog = page.getByTestId('reauth-dialog')
  const dialogError = dialog.getByTestId('error')
  const device = await authenticators.add()
  await section
    .getByTestId('passkeys-empty')
    .filter({ hasText: /No passkeys yet/ })
    .waitFor(WAIT)

  // Adding the first passkey after the window: the dialog; no passkey to answer with yet.
  await waitPastStepUp(context)
  await section.getByTestId('passkey-name').fill('Key')
  await section.getByTestId('passkey-add').click()
  await dialog.waitFor({ state: 'visible', ...WAIT })
  await page.getByTestId('reauth-passkey').click()
  await dialogError.filter({ hasText: /no passkey yet/ }).waitFor(WAIT)
  t.pass('an account without a passkey is told to use its password')
  t.equal((await authenticators.credentials(device)).length, 0, 'the browser made nothing')
  await page.getByTestId('reauth-password').fill(PASSWORD)
  await page.getByTestId('reauth-submit').click()
  await section.getByTestId('passkey-notice').filter({ hasText: /added/ }).waitFor(WAIT)
  t.same(await listedNames(page), ['Key'], 'the password confirmed: the passkey was added')

  // Removing it after the window: the dialog, answered with the passkey itself.
  const removals: number[] = []
  const reauths: number[] = []
  page.on('response', (response) => {
    if (pathOf(response) === '/trpc/passkeys.remove') removals.push(response.status())
    if (pathOf(response) === '/trpc/auth.reauthenticate') reauths.push(response.status())
  })
  await waitPastStepUp(context)
  await rows.first().getByTestId('passkey-remove').click()
  await rows.first().getByTestId('passkey-remove-confirm').click()
  await dialog.waitFor({ state: 'visible', ...WAIT })

  // First cancelled in the browser: the dialog stays, saying so.
  await authenticators.verifies(device, false)
  await page.getByTestId('reauth-passkey').click()
  await dialogError.filter({ hasText: /cancelled/ }).waitFor(WAIT)
  t.ok(await dialog.isVisible(), 'a cancelled passkey leaves the dialog open')
  t.same(reauths, [], 'and sent nothing')

  await authenticators.verifies(device, true)
  await page.getByTestId('reauth-passkey').click()
  await section
    .getByTestId('passkey-notice')
    .filter({ hasText: /removed/ })
    .waitFor(WAIT)
  t.equal(await dialog.count(), 0, 'the dialog closed')
  t.same(reauths, [200], 'auth.reauthenticate took the passkey')
  t.same(removals, [401, 200], 'the removal: refused, then retried once after the dialog')
  t.same((await accessClaims(context)).amr, ['hwk'], 'the fresh proof is the device key (amr hwk)')
  t.equal(await rows.count(), 0, 'the passkey is gone')
})

t.test('nothing left this machine', async (t) => {
  t.same(offenders, [])
})
