import { rm } from 'node:fs/promises'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { tempDataDir } from './process.js'

const SPA = 'http://127.0.0.1:5173'
const OTHER = 'http://127.0.0.1:5174'
const PASSWORD = 'correct horse battery staple 7'

/** The app on a real socket (loopback, a free port), closed when the file ends. */
async function serve(env: Record<string, string>): Promise<string> {
  const dataDir = tempDataDir()
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { app } = await buildApp(
    loadConfig({ BREAKWATER_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env }),
    { logger: false },
  )
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

// Two apps, booted one after the other: their embedded databases share this
// process's one thread, and side by side they can outlast Fastify's plugin timeout.
// The first also trusts its proxy (for the TLS case below).
const withOrigins = await serve({
  ALLOWED_ORIGINS: `${SPA},https://app.example.com`,
  LOGIN_IP_LIMIT: '1/1m',
  TRUST_PROXY: 'true',
})
const plain = await serve({})

/** Every `access-control-*` header of a response, by name. */
function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith('access-control-')),
  )
}

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(`${url}/trpc/auth.register`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-breakwater-csrf',
    },
  })
}

function register(url: string, origin: string, email: string): Promise<Response> {
  return fetch(`${url}/trpc/auth.register`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', 'x-breakwater-csrf': '1' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
}

t.test('ALLOWED_ORIGINS set: CORS for exactly those origins', async (t) => {
  const url = withOrigins

  const allowed = await preflight(url, SPA)
  t.equal(allowed.status, 204, 'the preflight is answered')
  t.same(corsHeaders(allowed), {
    'access-control-allow-origin': SPA,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'content-type, authorization, x-breakwater-csrf',
    'access-control-expose-headers': 'retry-after',
    'access-control-max-age': '600',
  })
  t.match(allowed.headers.get('vary'), /\bOrigin\b/i, 'caches keep answers per origin')
  t.equal(
    (await preflight(url, 'https://app.example.com')).headers.get('access-control-allow-origin'),
    'https://app.example.com',
    'every listed origin',
  )

  // Not granted: the tRPC route answers the OPTIONS itself (415), with no CORS header.
  const other = await preflight(url, OTHER)
  t.notOk(other.ok, 'no preflight for another origin')
  t.same(corsHeaders(other), {}, 'and not one CORS header')
  t.match(other.headers.get('vary'), /\bOrigin\b/i)

  const ok = await register(url, SPA, 'cors@example.com')
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('access-control-allow-origin'), SPA)
  t.equal(ok.headers.get('access-control-allow-credentials'), 'true')
  t.equal(ok.headers.get('access-control-expose-headers'), 'retry-after')
  t.match(ok.headers.get('vary'), /\bOrigin\b/, "Vary keeps Origin beside tRPC's own")
  t.match(ok.headers.get('vary'), /\baccept\b/)
  t.equal(ok.headers.getSetCookie().length, 2, 'the session cookies ride along')

  // The server itself refuses the other origin too (CSRF), whatever CORS would let through.
  const refused = await register(url, OTHER, 'other@example.com')
  t.equal(refused.status, 403)
  t.same(corsHeaders(refused), {})
  const body = (await refused.json()) as { error: { message: string; data: { reason: string } } }
  t.equal(body.error.data.reason, 'CSRF_REJECTED')
  t.match(body.error.message, `origin ${OTHER} is not allowed. Add it to allowedOrigins`)

  // The refused request never counted: this is the second attempt, one over the limit.
  const limited = await register(url, SPA, 'third@example.com')
  t.equal(limited.status, 429, 'over LOGIN_IP_LIMIT')
  t.match(limited.headers.get('retry-after'), /^\d+$/)
  t.equal(
    limited.headers.get('access-control-expose-headers'),
    'retry-after',
    'a page on the listed origin can read Retry-After',
  )

  const get = await fetch(`${url}/trpc/auth.me`, { headers: { origin: SPA } })
  t.equal(get.status, 401)
  t.equal(get.headers.get('access-control-allow-origin'), SPA, 'errors carry CORS too')
  const getOther = await fetch(`${url}/trpc/auth.me`, { headers: { origin: OTHER } })
  t.same(corsHeaders(getOther), {})
  const noOrigin = await fetch(`${url}/healthz`)
  t.same(corsHeaders(noOrigin), {}, 'no Origin, no CORS headers')
})

t.test('ALLOWED_ORIGINS unset: no CORS at all', async (t) => {
  const url = plain
  const answer = await preflight(url, SPA)
  t.notOk(answer.ok)
  t.same(corsHeaders(answer), {})
  const get = await fetch(`${url}/trpc/auth.me`, { headers: { origin: SPA } })
  t.same(corsHeaders(get), {})
})

/** A POST through `http.request`, which (unlike `fetch`) may name any Host. */
function postAs(url: string, path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string; cookies: string[] }>((resolve, reject) => {
    const call = request(`${url}${path}`, { method: 'POST', headers }, (answer) => {
      let text = ''
      answer.setEncoding('utf8')
      answer.on('data', (chunk) => {
        text += chunk
      })
      answer.on('end', () =>
        resolve({
          status: answer.statusCode ?? 0,
          body: text,
          cookies: answer.headers['set-cookie'] ?? [],
        }),
      )
    })
    call.on('error', reject)
    call.end(body)
  })
}

t.test(
  'behind a TLS-terminating proxy: the Origin is https, so TRUST_PROXY must say so',
  async (t) => {
    // The server's own public name (not in ALLOWED_ORIGINS): only its protocol is in doubt.
    const origin = 'https://auth.example.org'
    const headers = {
      host: 'auth.example.org',
      origin,
      'x-forwarded-proto': 'https',
      'content-type': 'application/json',
    }
    const body = JSON.stringify({ email: 'tls@example.com', password: PASSWORD })

    const untrusted = await postAs(plain, '/trpc/auth.register', headers, body)
    t.equal(untrusted.status, 403, 'TRUST_PROXY unset: X-Forwarded-Proto ignored')
    t.equal(
      (JSON.parse(untrusted.body) as { error: { message: string } }).error.message,
      `The request was refused: origin ${origin} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); behind a dev proxy, keep the Host header (Vite: changeOrigin: false).`,
      'the server takes itself for http://auth.example.org',
    )

    // A client address of its own: the first test used up this limit for 127.0.0.1.
    const believed = await postAs(
      withOrigins,
      '/trpc/auth.register',
      { ...headers, 'x-forwarded-for': '203.0.113.9' },
      body,
    )
    t.equal(believed.status, 200, 'TRUST_PROXY=true')
    t.match(believed.cookies.join('\n'), /__Host-bw_access=/, 'and Secure cookies, as on https')
  },
)
