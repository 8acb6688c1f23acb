import { writeFile } from 'node:fs/promises'
import { createServer, request as forward, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { freePort } from '@breakwater/db/testing'
import type { BrowserContext, Page, Request } from 'playwright-core'
import t, { type Test } from 'tap'
import {
  guardNetwork,
  launchBrowser,
  newEmail,
  PASSWORD,
  type RunningServer,
  startServer,
  tempDir,
} from './support.js'

/*
 * docs/cross-origin.md, shown true in a real Chromium: a single-page app served
 * from one origin calling the API on another, with cookies. The "SPA" is a tiny
 * page whose script does what @breakwater/client's cookie transport does:
 * `fetch` with `credentials: 'include'`, the `x-breakwater-csrf` header on
 * mutations, tRPC's plain-JSON wire format.
 */

const SPA_PAGE = `<!doctype html><meta charset="utf-8"><title>SPA</title><script>
window.call = async (api, path, { method = 'POST', body = {}, form = false } = {}) => {
  const init = { method, credentials: 'include', headers: {} }
  if (form) {
    // What any page may send without a preflight: a multipart form (which tRPC reads
    // as the input), no CSRF header, an opaque answer.
    init.mode = 'no-cors'
    init.body = new FormData()
    for (const [name, value] of Object.entries(body)) init.body.append(name, value)
  } else if (method === 'POST') {
    init.headers['content-type'] = 'application/json'
    init.headers['x-breakwater-csrf'] = '1'
    init.body = JSON.stringify(body)
  }
  try {
    const response = await fetch(api + '/trpc/' + path, init)
    const text = await response.text()
    let json = null
    try { json = JSON.parse(text) } catch {}
    return { status: response.status, type: response.type, body: json }
  } catch (error) {
    return { status: 0, type: 'error', error: String(error) }
  }
}
</script>`

interface CallResult {
  status: number
  type: string
  error?: string
  body: {
    result?: { data: { user?: { email: string }; ok?: boolean; session?: unknown } }
    error?: { message: string; data: { reason?: string } }
  } | null
}

/** The SPA's web server: the same page on every port it listens on. */
async function spaServer(t: Test): Promise<number> {
  const server: Server = createServer((request, response) => {
    const known = request.url === '/'
    response.writeHead(known ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
    response.end(known ? SPA_PAGE : 'not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return (server.address() as AddressInfo).port
}

const spaPort = await spaServer(t)
const strangerPort = await spaServer(t)
const SPA = `http://127.0.0.1:${spaPort}`
/** Same site as the API (127.0.0.1), another port, not in ALLOWED_ORIGINS. */
const STRANGER = `http://127.0.0.1:${strangerPort}`
/** Another site (localhost ≠ 127.0.0.1), not in ALLOWED_ORIGINS. */
const FOREIGN = `http://localhost:${spaPort}`

/** A Vite dev server's origin that the API lists (the other fix for the proxy shorthand). */
const vitePort = await freePort()
const LISTED_DEV = `http://127.0.0.1:${vitePort}`

// The API, API-only (an empty web directory), as `pnpm start` runs it.
const empty = await tempDir('bw-cross-origin-web-')
t.teardown(empty.cleanup)
const common = { ALLOWED_ORIGINS: `${SPA},${LISTED_DEV}`, ACCESS_TOKEN_TTL: '5m' }
const [lax, none] = await Promise.all([
  startServer(empty.dir, common),
  startServer(empty.dir, { ...common, COOKIE_SAMESITE: 'none' }),
])
for (const server of [lax, none] as RunningServer[]) t.teardown(server.stop)

const browser = await launchBrowser()
t.teardown(() => browser.close())
const offenders: string[] = []

/** A fresh browser profile with the SPA open at `origin`, and every request it makes. */
async function openSpa(
  t: Test,
  origin: string,
): Promise<{ context: BrowserContext; page: Page; requests: Request[] }> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  guardNetwork(context, offenders)
  const requests: Request[] = []
  context.on('request', (request) => requests.push(request))
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  await page.goto(`${origin}/`)
  return { context, page, requests }
}

function call(
  page: Page,
  api: string,
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; form?: boolean } = {},
): Promise<CallResult> {
  type Call = (api: string, path: string, options: object) => Promise<CallResult>
  return page.evaluate(
    ([api, path, options]) => (window as unknown as { call: Call }).call(api, path, options),
    [api, path, options] as const,
  )
}

/** Every cookie the profile keeps for the API, on any of its paths. */
function cookiesOf(context: BrowserContext, api: string) {
  return context.cookies([`${api}/`, `${api}/trpc/auth.refresh`])
}

/** The Cookie header Chromium sent with each request to `path` (as the network saw it). */
async function cookiesSentTo(requests: Request[], api: string, path: string): Promise<string[]> {
  const sent: string[] = []
  for (const request of requests) {
    if (request.url() !== `${api}/trpc/${path}` || request.method() === 'OPTIONS') continue
    sent.push((await request.allHeaders()).cookie ?? '')
  }
  return sent
}

/** register, me, refresh, me, logout, me — the whole session, from the SPA's origin. */
async function sessionFlow(
  t: Test,
  page: Page,
  requests: Request[],
  context: BrowserContext,
  api: string,
  names: { access: string; refresh: string },
): Promise<void> {
  const email = newEmail('spa')
  const registered = await call(page, api, 'auth.register', { body: { email, password: PASSWORD } })
  t.equal(registered.status, 200, 'register')
  t.equal(registered.body?.result?.data.user?.email, email)

  const stored = await cookiesOf(context, api)
  t.same(stored.map((cookie) => cookie.name).sort(), [names.access, names.refresh].sort())
  t.ok(
    stored.every((cookie) => cookie.httpOnly),
    'both HttpOnly',
  )
  const refreshCookie = stored.find((cookie) => cookie.name === names.refresh)
  t.equal(refreshCookie?.path, '/trpc/auth.refresh', 'the refresh cookie is scoped to its path')
  t.equal(await page.evaluate(() => document.cookie), '', 'page script sees no cookie')

  const me = await call(page, api, 'auth.me', { method: 'GET' })
  t.equal(me.status, 200, 'me')
  t.equal(me.body?.result?.data.user?.email, email)

  const refreshed = await call(page, api, 'auth.refresh')
  t.equal(refreshed.status, 200, 'refresh')
  t.ok(refreshed.body?.result?.data.session, 'a session comes back')
  const meAgain = await call(page, api, 'auth.me', { method: 'GET' })
  t.equal(meAgain.status, 200, 'me with the rotated cookies')

  const onMe = await cookiesSentTo(requests, api, 'auth.me')
  const onRefresh = await cookiesSentTo(requests, api, 'auth.refresh')
  t.equal(onMe.length, 2)
  for (const header of onMe) {
    t.match(header, `${names.access}=`, 'me carries the access cookie')
    t.notMatch(header, `${names.refresh}=`, 'and never the refresh cookie')
  }
  t.equal(onRefresh.length, 1)
  t.match(onRefresh[0], `${names.refresh}=`, 'refresh carries the refresh cookie')

  const out = await call(page, api, 'auth.logout')
  t.equal(out.status, 200, 'logout')
  t.same(out.body?.result?.data, { ok: true })
  t.same(await cookiesOf(context, api), [], 'the cookies are cleared')
  const after = await call(page, api, 'auth.me', { method: 'GET' })
  t.equal(after.status, 401)
  t.equal(after.body?.error?.data.reason, 'TOKEN_MISSING', 'signed out')
}

t.test('a. same site, another port: the whole session works with ALLOWED_ORIGINS', async (t) => {
  const { context, page, requests } = await openSpa(t, SPA)
  const api = lax.origin // http://127.0.0.1:<port>
  await sessionFlow(t, page, requests, context, api, { access: 'bw_access', refresh: 'bw_refresh' })
  // Not secure on plain-HTTP loopback: Lax and Strict, the defaults.
  const email = newEmail('attrs')
  await call(page, api, 'auth.register', { body: { email, password: PASSWORD } })
  const cookies = await cookiesOf(context, api)
  t.same(cookies.map((c) => `${c.name} ${c.sameSite} secure=${c.secure}`).sort(), [
    'bw_access Lax secure=false',
    'bw_refresh Strict secure=false',
  ])
})

t.test('b. another site with COOKIE_SAMESITE=none: the whole session works', async (t) => {
  const { context, page, requests } = await openSpa(t, SPA)
  const api = `http://localhost:${none.port}`
  await sessionFlow(t, page, requests, context, api, {
    access: '__Host-bw_access',
    refresh: '__Secure-bw_refresh',
  })
  const email = newEmail('attrs')
  await call(page, api, 'auth.register', { body: { email, password: PASSWORD } })
  const cookies = await cookiesOf(context, api)
  t.same(
    cookies.map((c) => `${c.name} ${c.sameSite} secure=${c.secure}`).sort(),
    ['__Host-bw_access None secure=true', '__Secure-bw_refresh None secure=true'],
    'Secure cookies from http://localhost are kept',
  )
})

t.test('c. another site without COOKIE_SAMESITE=none: no cookie is kept', async (t) => {
  const { context, page } = await openSpa(t, SPA)
  const api = `http://localhost:${lax.port}`
  const email = newEmail('lax')
  const registered = await call(page, api, 'auth.register', { body: { email, password: PASSWORD } })
  t.equal(registered.status, 200, 'the server signs the user in…')
  t.same(
    await cookiesOf(context, api),
    [],
    '…but Chromium drops Lax cookies from a cross-site answer',
  )
  const me = await call(page, api, 'auth.me', { method: 'GET' })
  t.equal(me.status, 401)
  t.equal(me.body?.error?.data.reason, 'TOKEN_MISSING')
})

t.test('d1. an origin not in ALLOWED_ORIGINS is refused: CORS blocks it', async (t) => {
  for (const origin of [STRANGER, FOREIGN]) {
    await t.test(origin, async (t) => {
      const { context, page } = await openSpa(t, origin)
      const api = lax.origin
      const logged: string[] = []
      page.on('console', (line) => logged.push(line.text()))
      const answers: { url: string; status: number }[] = []
      page.on('response', (response) => {
        if (response.request().method() !== 'OPTIONS')
          answers.push({ url: response.url(), status: response.status() })
      })

      const email = newEmail('stranger')
      const blocked = await call(page, api, 'auth.register', {
        body: { email, password: PASSWORD },
      })
      t.equal(blocked.status, 0, 'CORS blocks the call (no preflight granted)')
      t.match(blocked.error, /Failed to fetch/)
      t.same(answers, [], 'the POST itself was never sent')
      t.ok(
        logged.some((line) =>
          line.includes(
            "has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
          ),
        ),
        'Chromium says why in the console',
      )

      const me = await call(page, api, 'auth.me', { method: 'GET' })
      t.equal(me.status, 0, 'a credentialed GET: the answer is hidden from the page')

      // A request that needs no preflight (a multipart form) does reach the server,
      // which refuses it; the page cannot read the answer, only the network can see it.
      const opaque = await call(page, api, 'auth.register', {
        body: { email, password: PASSWORD },
        form: true,
      })
      t.equal(opaque.type, 'opaque', 'the page learns nothing')
      const register = answers.find((answer) => answer.url.endsWith('/trpc/auth.register'))
      t.ok(register && register.status >= 400, `refused (${register?.status})`)
      t.same(await cookiesOf(context, api), [], 'and no cookie')
    })
  }
})

/**
 * A proxy in front of the API that grants CORS to any origin (as a hand-written
 * nginx rule might), keeping the Host header: the browser lets the call through,
 * so the page reads the server's own refusal.
 */
async function permissiveCorsProxy(
  t: Test,
  target: RunningServer,
  { allowHeaders = 'content-type, x-breakwater-csrf', credentials = true } = {},
): Promise<string> {
  const server = createServer((incoming, outgoing) => {
    const cors: Record<string, string> = {
      'access-control-allow-origin': incoming.headers.origin ?? '*',
    }
    if (credentials) cors['access-control-allow-credentials'] = 'true'
    if (incoming.method === 'OPTIONS') {
      outgoing.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': allowHeaders,
      })
      outgoing.end()
      return
    }
    const upstream = forward(
      {
        host: '127.0.0.1',
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...cors })
        answer.pipe(outgoing)
      },
    )
    upstream.on('error', () => outgoing.destroy())
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test(
  'd2. with CORS granted elsewhere, the server still refuses, saying what to change',
  async (t) => {
    const api = await permissiveCorsProxy(t, lax)
    const proxyHost = new URL(api).host
    for (const [origin, message] of [
      [
        STRANGER,
        `The request was refused: origin ${STRANGER} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); behind a dev proxy, keep the Host header (Vite: changeOrigin: false).`,
      ],
      [
        FOREIGN,
        `The request was refused: cross-site origin ${FOREIGN} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); cookies across sites also need cookieSameSite: 'none' (COOKIE_SAMESITE=none).`,
      ],
    ] as const) {
      await t.test(`${origin} → ${proxyHost}`, async (t) => {
        const { context, page } = await openSpa(t, origin)
        const email = newEmail('refused')
        const refused = await call(page, api, 'auth.register', {
          body: { email, password: PASSWORD },
        })
        t.equal(refused.status, 403)
        t.equal(refused.body?.error?.data.reason, 'CSRF_REJECTED')
        t.equal(refused.body?.error?.message, message, 'the message names the fix')
        t.same(await cookiesOf(context, api), [], 'no cookie')
      })
    }
  },
)

t.test("d3. a CORS setup of one's own that misses a piece: what Chromium says", async (t) => {
  for (const [what, options, message] of [
    [
      'x-breakwater-csrf not in the allowed headers',
      { allowHeaders: 'content-type' },
      'Request header field x-breakwater-csrf is not allowed by Access-Control-Allow-Headers in preflight response.',
    ],
    [
      'no Access-Control-Allow-Credentials',
      { credentials: false },
      "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.",
    ],
  ] as const) {
    await t.test(what, async (t) => {
      const api = await permissiveCorsProxy(t, lax, options)
      const { page } = await openSpa(t, SPA)
      const logged: string[] = []
      page.on('console', (line) => logged.push(line.text()))
      const email = newEmail('misconfigured')
      const blocked = await call(page, api, 'auth.register', {
        body: { email, password: PASSWORD },
      })
      t.equal(blocked.status, 0, 'the page gets a TypeError')
      t.ok(
        logged.some((line) => line.includes(message)),
        'and the console says which piece',
      )
    })
  }
})

/** `vite` (dev) serving the SPA page, with `proxy` for `/trpc`. */
async function viteDevServer(t: Test, proxy: unknown, port?: number): Promise<string> {
  const { createServer: createVite } = await import('vite')
  const root = await tempDir('bw-vite-root-')
  t.teardown(root.cleanup)
  await writeFile(path.join(root.dir, 'index.html'), SPA_PAGE)
  port ??= await freePort()
  const vite = await createVite({
    configFile: false,
    root: root.dir,
    logLevel: 'silent',
    server: {
      host: '127.0.0.1',
      port,
      strictPort: true,
      hmr: false,
      ws: false,
      proxy: { '/trpc': proxy as string },
    },
  })
  t.teardown(() => vite.close())
  await vite.listen()
  return `http://127.0.0.1:${port}`
}

t.test(
  "e. the dev-proxy trap: Vite's proxy shorthand rewrites Host, so sign-in is refused",
  async (t) => {
    await t.test("'/trpc': 'http://127.0.0.1:<port>' (changeOrigin: true)", async (t) => {
      const dev = await viteDevServer(t, lax.origin)
      const { context, page } = await openSpa(t, dev)
      const email = newEmail('vite')
      const refused = await call(page, '', 'auth.register', { body: { email, password: PASSWORD } })
      t.equal(refused.status, 403)
      t.equal(refused.body?.error?.data.reason, 'CSRF_REJECTED')
      t.equal(
        refused.body?.error?.message,
        `The request was refused: origin ${dev} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); behind a dev proxy, keep the Host header (Vite: changeOrigin: false).`,
      )
      t.same(await cookiesOf(context, dev), [])
    })
    await t.test('the shorthand, with the dev origin in ALLOWED_ORIGINS: works', async (t) => {
      const dev = await viteDevServer(t, lax.origin, vitePort)
      t.equal(dev, LISTED_DEV)
      const { page } = await openSpa(t, dev)
      const email = newEmail('listed')
      const registered = await call(page, '', 'auth.register', {
        body: { email, password: PASSWORD },
      })
      t.equal(registered.status, 200)
      const me = await call(page, '', 'auth.me', { method: 'GET' })
      t.equal(me.body?.result?.data.user?.email, email)
    })
    await t.test('{ target, changeOrigin: false }: the whole session works', async (t) => {
      const dev = await viteDevServer(t, { target: lax.origin, changeOrigin: false })
      const { context, page, requests } = await openSpa(t, dev)
      // Same origin for the browser: relative URLs, cookies for the dev server's host.
      await sessionFlow(t, page, requests, context, dev, {
        access: 'bw_access',
        refresh: 'bw_refresh',
      })
    })
  },
)

t.test('no request left this machine', async (t) => {
  t.same(offenders, [])
})
