import t from 'tap'
import {
  guardNetwork,
  launchBrowser,
  newEmail,
  PASSWORD,
  serveBuiltApp,
  signIn,
} from './support.js'

// Three failed logins per account lock it for 15 minutes.
const server = await serveBuiltApp(t, { LOGIN_ACCOUNT_LIMIT: '3/15m' })
const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []
const context = await browser.newContext()
guardNetwork(context, offenders)
t.teardown(() => context.close())
const page = await context.newPage()
await page.goto(server.origin)

async function attempt(email: string, password: string, mode: 'sign-in' | 'sign-up') {
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(password)
  await page.getByTestId(mode).click()
  const error = page.getByTestId('error')
  await error.waitFor()
  const text = await error.textContent()
  await page.getByTestId(mode).isEnabled()
  return text
}

const email = newEmail('errors')
await signIn(page, email, 'sign-up')
await page.getByTestId('sign-out').click()
await page.getByTestId('sign-in').waitFor()

t.test('a wrong password and an unknown email say the same, in words', async (t) => {
  t.equal(await attempt(email, 'not the right passphrase', 'sign-in'), 'Wrong email or password.')
  t.equal(
    await attempt(newEmail('nobody'), 'not the right passphrase', 'sign-in'),
    'Wrong email or password.',
  )
  t.equal(await page.getByTestId('me-email').count(), 0, 'not signed in')
})

t.test('sign-up errors: weak password, taken email, bad email', async (t) => {
  t.match(await attempt(newEmail('weak'), 'short', 'sign-up'), /too weak/)
  t.match(await attempt(newEmail('common'), 'password1234', 'sign-up'), /too weak/)
  t.match(await attempt(email, PASSWORD, 'sign-up'), /already exists/)
  t.equal(await attempt('not-an-email', PASSWORD, 'sign-up'), 'Enter a valid email address.')
})

t.test('rate limiting shows the wait from Retry-After', async (t) => {
  // One failure is in from the first test; two more reach the limit.
  let retryAfter: string | undefined
  page.on('response', (response) => {
    if (response.status() === 429) retryAfter = response.headers()['retry-after']
  })
  let message: string | null = null
  for (let i = 0; i < 4 && retryAfter === undefined; i++) {
    message = await attempt(email, `wrong passphrase number ${i}`, 'sign-in')
  }
  t.ok(retryAfter, `the server answered 429 with Retry-After: ${retryAfter}`)
  const seconds = Number(retryAfter)
  t.ok(seconds > 0 && seconds <= 3600, 'a wait in whole seconds')
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`
  const wait =
    seconds < 60
      ? plural(seconds, 'second')
      : [
          plural(Math.floor(seconds / 60), 'minute'),
          seconds % 60 ? plural(seconds % 60, 'second') : '',
        ]
          .filter(Boolean)
          .join(' ')
  t.equal(message, `Too many attempts. Try again in ${wait}.`, 'the wait, in words')
  // Even the right password waits now.
  t.match(await attempt(email, PASSWORD, 'sign-in'), /^Too many attempts/)
  t.equal(await page.getByTestId('me-email').count(), 0, 'not signed in')
})

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
