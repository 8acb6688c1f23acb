import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
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

const server = await serveBuiltApp(t, { ACCESS_TOKEN_TTL: '30s' })
const target = server.origin // http://127.0.0.1:<port>

/**
 * The attacker's site: `http://localhost:<port>`. A different host from
 * 127.0.0.1, so a different site: SameSite=Lax cookies ride only on top-level
 * GET navigations to the app, Strict ones never.
 */
function attackerPages(): Record<string, string> {
  const autoSubmit = (action: string, enctype: string, fields: string, method = 'POST') =>
    `<!doctype html><form id="f" method="${method}" enctype="${enctype}" action="${target}/trpc/${action}">${fields}</form><script>document.getElementById('f').submit()</script>`
  const jsonField = (json: string) => {
    // The classic text/plain trick: name + "=" + value reads as JSON.
    const body = json.slice(0, -2)
    return `<input type="hidden" name='${body}, "pad": "' value='"}'>`
  }
  return {
    '/logout-text': autoSubmit('auth.logout', 'text/plain', jsonField('{"x": 1}')),
    '/logout-form': autoSubmit(
      'auth.logout',
      'application/x-www-form-urlencoded',
      '<input name="a" value="1">',
    ),
    '/logout-get': autoSubmit('auth.logout', 'application/x-www-form-urlencoded', '', 'GET'),
    '/logout-all-text': autoSubmit(
      'auth.logoutAll',
      'text/plain',
      jsonField('{"keepCurrent": false}'),
    ),
    '/logout-all-form': autoSubmit(
      'auth.logoutAll',
      'application/x-www-form-urlencoded',
      '<input name="keepCurrent" value="false">',
    ),
    // tRPC reads multipart bodies as FormData, so these reach the procedures' input parsing.
    '/logout-multipart': autoSubmit(
      'auth.logout',
      'multipart/form-data',
      '<input name="a" value="1">',
    ),
    '/logout-all-multipart': autoSubmit(
      'auth.logoutAll',
      'multipart/form-data',
      '<input name="keepCurrent" value="false">',
    ),
    '/refresh-form': autoSubmit('auth.refresh', 'text/plain', jsonField('{"x": 1}')),
    '/password-text': autoSubmit(
      'auth.changePassword',
      'text/plain',
      jsonField(`{"currentPassword": "${PASSWORD}", "newPassword": "attacker chose this 99"}`),
    ),
    '/login-text': autoSubmit(
      'auth.login',
      'text/plain',
      jsonField(`{"email": "${ATTACKER_EMAIL}", "password": "${PASSWORD}"}`),
    ),
    '/fetch': `<!doctype html><script>
      const base = ${JSON.stringify(`${target}/trpc/`)}
      const attempts = [
        ['auth.logout', { method: 'POST', credentials: 'include', body: '{}' }],
        ['auth.logoutAll', { method: 'POST', credentials: 'include', body: '{}' }],
        ['auth.logout', { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }],
        // Needs a CORS preflight, which the server does not grant:
        ['auth.logout', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-breakwater-csrf': '1' }, body: '{}' }],
        ['auth.logoutAll', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-breakwater-csrf': '1' }, body: '{}' }],
        ['auth.refresh', { method: 'POST', credentials: 'include', headers: { 'x-breakwater-csrf': '1' }, body: '{}' }],
        ['sessions.list', { credentials: 'include' }],
        ['auth.me', { credentials: 'include' }],
      ]
      window.results = Promise.all(attempts.map(([path, init]) =>
        fetch(base + path, init).then((r) => path + ': ' + r.type + ' ' + r.status, (e) => path + ': blocked (' + e.name + ')')))
    </script>`,
  }
}
const ATTACKER_EMAIL = newEmail('attacker')

let attacker: Server | undefined
const pages = attackerPages()
attacker = createServer((request, response) => {
  const page = pages[request.url ?? '']
  response.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
  response.end(page ?? 'not found')
})
await new Promise<void>((resolve) => attacker!.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => attacker!.close(() => resolve())))
const evil = `http://localhost:${(attacker.address() as AddressInfo).port}`

const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []

// The attacker has an account of their own, to try login CSRF with.
{
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(target)
  await signIn(page, ATTACKER_EMAIL, 'sign-up')
  await context.close()
}

/** Signs a fresh victim in, runs the attacker's pages in the same browser, checks nothing changed. */
async function attackVictim(t: Test, paths: string[]): Promise<void> {
  const context = await browser.newContext()
  guardNetwork(context, offenders)
  t.teardown(() => context.close())
  const app = await context.newPage()
  await app.goto(target)
  const email = newEmail('victim')
  await signIn(app, email, 'sign-up')
  await app.getByTestId('session-row').first().waitFor()
  const before = await context.cookies()
  t.same(before.map((c) => c.name).sort(), ['bw_access', 'bw_refresh'])

  // What reached the server from the attacker's pages, and how it answered.
  const seen: string[] = []
  context.on('response', (response) => {
    const url = new URL(response.url())
    if (url.origin === target && url.pathname.startsWith('/trpc/')) {
      const from = response.request().headers().referer ?? ''
      if (from.startsWith(evil)) seen.push(`${url.pathname} ${response.status()}`)
    }
  })

  const attack = await context.newPage()
  for (const path of paths) {
    await attack.goto(`${evil}${path}`)
    if (path === '/fetch') {
      const results = (await attack.evaluate('window.results')) as string[]
      t.comment(`fetches: ${results.join('; ')}`)
      for (const line of results) t.notMatch(line, /: (cors|basic) 200/, `not accepted: ${line}`)
      continue
    }
    await attack.waitForURL(`${target}/trpc/**`, { timeout: UI_WAIT_MS })
    await attack.waitForLoadState()
  }
  t.comment(`forms reached the server as: ${seen.join(', ')}`)
  for (const line of seen) t.notMatch(line, / 200$/, `refused: ${line}`)

  const after = await context.cookies()
  t.same(
    after.map((c) => `${c.name}=${c.value}`).sort(),
    before.map((c) => `${c.name}=${c.value}`).sort(),
    'the cookies are untouched (not cleared, not replaced by the attacker’s session)',
  )
  await app.bringToFront()
  await sleep(2500) // time for the live stream to tell, had the session ended
  t.equal(await app.getByTestId('me-email').count(), 1, 'the app tab is still signed in')
  await app.reload()
  const signedIn = await app
    .getByTestId('me-email')
    .waitFor({ timeout: UI_WAIT_MS })
    .then(
      () => true,
      () => false,
    )
  t.ok(signedIn, 'signed in after a reload')
  if (!signedIn) return
  t.equal(await app.getByTestId('me-email').textContent(), email, 'as the victim')
  // The session list renders after auth.me answers: wait for it before counting.
  await app.getByTestId('session-row').first().waitFor({ timeout: UI_WAIT_MS })
  t.equal(await app.getByTestId('session-row').count(), 1, 'the session was not revoked')

  // And the password is unchanged: the victim's still signs in elsewhere.
  const check = await browser.newContext()
  t.teardown(() => check.close())
  const other = await check.newPage()
  await other.goto(target)
  await signIn(other, email, 'sign-in', PASSWORD)
  t.pass('the password was not changed')
}

t.test('a cross-site page cannot sign the user out or change anything', async (t) => {
  await attackVictim(
    t,
    Object.keys(pages).filter((path) => path !== '/logout-multipart'),
  )
})

// A multipart form is the one body tRPC reads from a form, and SameSite=Lax keeps
// the cookies back, so logout sees no token at all: it must still refuse to answer
// with cookie-clearing headers without the anti-CSRF proof.
t.test('a cross-site multipart form POST to auth.logout does not sign the user out', async (t) => {
  await attackVictim(t, ['/logout-multipart'])
})

t.test('no request left this machine', async (t) => {
  t.same(
    offenders.filter((url) => !url.startsWith(evil)),
    [],
  )
})
