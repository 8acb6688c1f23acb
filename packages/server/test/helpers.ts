import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { Database } from '@breakwater/db'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { type BreakwaterOptions, breakwater } from '../src/index.js'

export interface Reply<T = unknown> {
  status: number
  headers: Headers
  body: {
    result?: { data: T }
    error?: {
      message: string
      code: number
      data: { code: string; httpStatus: number; reason?: string; issues?: unknown[] }
    }
  }
  data: T
  reason: string | undefined
  setCookies: string[]
}

export interface Server {
  app: FastifyInstance
  url: string
  close(): Promise<void>
}

const TEST_OUTBOX = path.join(tmpdir(), `breakwater-test-outbox-${process.pid}`)

/** A fixed key-encryption secret for tests (32 bytes, base64url); PostgreSQL needs one. */
export const TEST_SECRET = Buffer.alloc(32, 7).toString('base64url')

/** A clock a test moves by hand: `clock.now` in milliseconds, `clock.advance(seconds)`. */
export function manualClock(start = Date.now()) {
  const clock = {
    now: start,
    read: () => clock.now,
    advance(seconds: number) {
      clock.now += seconds * 1000
    },
  }
  return clock
}

// Fastify gives a plugin 10 s to register. The suites run beside other suites on two
// cores, where starting the hashing process alone has taken longer; a test is not a
// measure of start-up time.
export const TEST_PLUGIN_TIMEOUT = 60_000

/** A real Fastify with the plugin, listening on a free loopback port. */
export async function startServer(
  database: Database,
  options: Partial<BreakwaterOptions> = {},
  configure?: (app: FastifyInstance) => void | Promise<void>,
  fastifyOptions: FastifyServerOptions = {},
): Promise<Server> {
  const app = Fastify({ logger: false, pluginTimeout: TEST_PLUGIN_TIMEOUT, ...fastifyOptions })
  await app.register(breakwater, {
    database,
    secret: TEST_SECRET,
    // Mail a test does not read goes to a private temporary folder, not the package's.
    mail: { outboxDir: TEST_OUTBOX },
    ...options,
  })
  await configure?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() }
}

/**
 * A minimal HTTP client over fetch, with a cookie jar that honours Path and
 * Max-Age, the way a browser would send cookies back.
 */
export class Client {
  readonly url: string
  readonly jar = new Map<string, { value: string; path: string }>()
  bearer: string | undefined
  csrf = true
  extraHeaders: Record<string, string> = {}

  constructor(url: string) {
    this.url = url
  }

  cookieHeader(path: string): string | undefined {
    const pairs = [...this.jar]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
    return pairs.length ? pairs.join('; ') : undefined
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...this.extraHeaders, ...init.headers }
    const cookie = this.cookieHeader(path.split('?')[0]!)
    if (cookie) headers.cookie = cookie
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`
    const response = await fetch(`${this.url}${path}`, { method, headers, body: init.body })
    const setCookies = response.headers.getSetCookie()
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      const pathAttr = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='))
      if (maxAge && Number(maxAge.slice(8)) <= 0) this.jar.delete(name)
      else this.jar.set(name, { value, path: pathAttr })
    }
    const text = await response.text()
    let body: Reply<T>['body'] = {}
    try {
      body = JSON.parse(text)
    } catch {
      body = {}
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      data: body.result?.data as T,
      reason: body.error?.data?.reason,
      setCookies,
    }
  }

  mutation<T = unknown>(
    name: string,
    input?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const csrf: Record<string, string> = this.csrf ? { 'x-breakwater-csrf': '1' } : {}
    return this.request<T>('POST', `/trpc/${name}`, {
      body: input === undefined ? undefined : JSON.stringify(input),
      headers: { 'content-type': 'application/json', ...csrf, ...headers },
    })
  }

  query<T = unknown>(
    name: string,
    input?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`
    return this.request<T>('GET', `/trpc/${name}${qs}`, { headers })
  }
}

export interface AuthResult {
  user: { id: string; email: string; displayName: string | null; createdAt: string }
  session: {
    id: string
    accessTokenExpiresAt: string
    refreshTokenExpiresAt: string
    expiresAt: string
  }
  tokens?: {
    accessToken: string
    refreshToken: string
    accessTokenExpiresAt: string
    refreshTokenExpiresAt: string
  }
}

export const PASSWORD = 'a sturdy passphrase 42'

let counter = 0
export function uniqueEmail(prefix = 'user'): string {
  counter++
  return `${prefix}${counter}.${process.pid}@Example.COM`
}

/** Registers a fresh user in bearer transport and returns its tokens. */
export async function registerBearer(url: string, email = uniqueEmail()) {
  const client = new Client(url)
  const reply = await client.mutation<AuthResult>('auth.register', {
    email,
    password: PASSWORD,
    transport: 'bearer',
  })
  if (reply.status !== 200)
    throw new Error(`register failed: ${reply.status} ${JSON.stringify(reply.body)}`)
  client.bearer = reply.data.tokens!.accessToken
  return { client, email, result: reply.data, tokens: reply.data.tokens! }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A Fastify logger that keeps every line it writes, to search for secrets. */
export function captureLog() {
  const logged: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk))
      done()
    },
  })
  return { logged, logger: { level: 'info', stream } }
}
