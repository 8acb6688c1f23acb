import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { DEFAULT_PREFIX, procedurePaths } from '@breakwater/protocol'
import { type BreakwaterOptions, breakwater } from '@breakwater/server'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Clock } from '../src/index.js'
import type { FetchLike } from '../src/wire.js'

export const PASSWORD = 'a sturdy passphrase 42'

/**
 * One key-encryption secret for every server in a test file (32 bytes,
 * base64url): they share one database, so each must open the signing keys the
 * first one sealed.
 */
const TEST_SECRET = Buffer.alloc(32, 7).toString('base64url')

let counter = 0
export function uniqueEmail(prefix = 'client'): string {
  counter++
  return `${prefix}${counter}.${process.pid}@example.com`
}

/**
 * Waits until the server counts an access token as expired. Only for tests
 * where the server itself must answer `TOKEN_EXPIRED`: it has no clock to move
 * yet, so its tokens age in real time. Those tests use 2 s lifetimes, so the
 * wait is 1–2 s (`exp` is whole seconds): 1 s would leave the refreshed token
 * as little as a second to serve the replays, which a loaded machine misses.
 * The verifier's `exp <= now` (leeway 0 in {@link startServer}) holds from the
 * instant `accessTokenExpiresAt` names.
 */
export function untilExpired(accessTokenExpiresAt: string | Date): Promise<void> {
  // The suite's only real wait: everything else moves a TestClock.
  const ms = new Date(accessTokenExpiresAt).getTime() - Date.now() + 5
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

/**
 * The client's clock, moved by the test instead of waited for. `now()` starts
 * at the wall clock, so instants from the server mean what they say, and then
 * stands still until {@link TestClock.advance}: a call the client thinks is
 * early stays early however long the test runs.
 *
 * Timers are real by default (cross-tab claims must outlast real messages).
 * With `manualTimers` they fire only when `advance` passes them, and
 * {@link TestClock.nextTimer} waits for the client to set one.
 */
export interface TestClock extends Clock {
  /** Moves `now()` forward by `ms`, firing manual timers that fall due, in order. */
  advance(ms: number): void
  /** Moves `now()` to `instant` (forward only). */
  advanceTo(instant: string | Date | number): void
  /** Manual timers: resolves with the delay of the oldest pending timer, as soon as there is one. */
  nextTimer(): Promise<number>
}

/** A {@link TestClock} starting at the wall clock's now. */
export function testClock(options: { manualTimers?: boolean } = {}): TestClock {
  const manual = options.manualTimers === true
  let now = Date.now()
  let ids = 0
  const timers = new Map<number, { at: number; ms: number; callback: () => void }>()
  const waiters: Array<() => void> = []

  const oldest = () => [...timers.values()].sort((a, b) => a.at - b.at)[0]
  const clock: TestClock = {
    now: () => now,
    setTimeout(callback, ms) {
      if (!manual) return setTimeout(callback, ms)
      const id = ++ids
      timers.set(id, { at: now + ms, ms, callback })
      for (const wake of waiters.splice(0)) wake()
      return id
    },
    clearTimeout(handle) {
      if (manual) timers.delete(handle as number)
      else clearTimeout(handle as NodeJS.Timeout)
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`the test clock only moves forward, got ${ms} ms`)
      const until = now + ms
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= until)
        due.sort((a, b) => a[1].at - b[1].at)
        const first = due[0]
        if (!first) break
        timers.delete(first[0])
        now = first[1].at
        first[1].callback()
      }
      now = until
    },
    advanceTo(instant) {
      clock.advance(new Date(instant).getTime() - now)
    },
    async nextTimer() {
      if (!manual) throw new Error('nextTimer() needs testClock({ manualTimers: true })')
      while (timers.size === 0) await new Promise<void>((wake) => waiters.push(wake))
      return oldest()!.ms
    },
  }
  return clock
}

export interface TestServer {
  app: FastifyInstance
  /** The tRPC endpoint, `http://127.0.0.1:PORT/trpc` (or the `prefix` option's). */
  url: string
  port: number
  /** Requests that reached `auth.refresh` under the prefix (under any router key), counted in an `onRequest` hook. */
  refreshes: number
  /** Every request path the server saw, in order. */
  paths: string[]
  close(): Promise<void>
}

let shared: Database | undefined

/** One migrated PGlite per test process: starting one costs about a second. */
export async function database(): Promise<Database> {
  shared ??= await openTestDatabase('pglite')
  return shared
}

export async function closeDatabase(): Promise<void> {
  await shared?.close()
  shared = undefined
}

/** A real Fastify with the Breakwater plugin on a free (or given) loopback port. */
export async function startServer(
  options: Partial<BreakwaterOptions> = {},
  port = 0,
  configure?: (app: FastifyInstance, server: TestServer) => void,
): Promise<TestServer> {
  // Fastify's default 10 s for a plugin to register is a start-up budget; beside other
  // suites on two cores the plugin's start (its hashing process) has taken longer.
  const app = Fastify({ logger: false, pluginTimeout: 60_000 })
  const server: TestServer = {
    app,
    url: '',
    port: 0,
    refreshes: 0,
    paths: [],
    close: () => app.close(),
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX
  // `/trpc/auth.refresh`, or `/api/account.auth.refresh` with Breakwater's router under a key.
  const refresh = new RegExp(`^${prefix}/(?:[\\w$]+\\.)*auth\\.refresh$`)
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0]!
    server.paths.push(path)
    if (refresh.test(path)) server.refreshes++
  })
  configure?.(app, server)
  await app.register(breakwater, {
    database: await database(),
    secret: TEST_SECRET,
    clockLeeway: 0,
    ...options,
  })
  await app.listen({ host: '127.0.0.1', port })
  const address = app.server.address()
  server.port = typeof address === 'object' && address ? address.port : 0
  server.url = `http://127.0.0.1:${server.port}${prefix}`
  return server
}

/**
 * A fetch with a cookie jar that honours Path and Max-Age, as a browser would:
 * the refresh cookie only goes to `/trpc/auth.refresh`, and a cookie whose
 * Max-Age ran out (in real time, as the server's tokens age) is dropped. It
 * also records the request headers it sent, so tests can see the CSRF header.
 */
export function cookieJarFetch() {
  const jar = new Map<string, { value: string; path: string; expiresAt: number }>()
  const sent: Array<{
    method: string
    path: string
    headers: Record<string, string>
    credentials: string | undefined
  }> = []
  const fetchWithJar: FetchLike = async (input, init = {}) => {
    const url = new URL(input)
    const headers = new Headers(init.headers)
    for (const [name, cookie] of jar) if (cookie.expiresAt <= Date.now()) jar.delete(name)
    const pairs = [...jar]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
    if (pairs.length) headers.set('cookie', pairs.join('; '))
    sent.push({
      method: init.method ?? 'GET',
      path: url.pathname,
      headers: Object.fromEntries(headers),
      credentials: init.credentials,
    })
    const response = await fetch(input, { ...init, headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const pathAttr = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      const maxAgeAttr = attributes.find((a) => a.toLowerCase().startsWith('max-age='))
      const maxAge = maxAgeAttr ? Number(maxAgeAttr.slice(8)) : Number.POSITIVE_INFINITY
      if (maxAge <= 0) jar.delete(name)
      else
        jar.set(name, {
          value: pair!.slice(eq + 1),
          path: pathAttr,
          expiresAt: Date.now() + maxAge * 1000,
        })
    }
    return response
  }
  return { fetch: fetchWithJar, jar, sent }
}

/** Registers a user straight over HTTP (no client involved), with Breakwater's router under `namespace` if given. */
export async function registerUser(
  url: string,
  email = uniqueEmail(),
  namespace?: string,
): Promise<string> {
  const response = await fetch(`${url}/${procedurePaths(namespace).register}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  })
  if (response.status !== 200)
    throw new Error(`register failed: ${response.status} ${await response.text()}`)
  return email
}

/**
 * A sign-in result (`auth.login`, `auth.signInWithCode`,
 * `auth.verifySecondFactor`) narrowed to its signed-in member. Since SPEC §10
 * a user with a second factor is answered `{ mfaRequired: true, challenge,
 * methods }` with no session; the users these tests sign in have none, so
 * that answer is a failure here, thrown as such rather than read as a session.
 */
export function signedIn<T>(result: T): Exclude<T, { mfaRequired: true }> {
  if ((result as { mfaRequired?: unknown } | null)?.mfaRequired === true)
    throw new Error(
      `expected a session, but the server asked for a second factor: ${JSON.stringify(result)}`,
    )
  return result as Exclude<T, { mfaRequired: true }>
}
