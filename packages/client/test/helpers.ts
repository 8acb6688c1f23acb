import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { type BreakwaterOptions, breakwater } from '@breakwater/server'
import Fastify, { type FastifyInstance } from 'fastify'
import type { FetchLike } from '../src/wire.js'

export const PASSWORD = 'a sturdy passphrase 42'

let counter = 0
export function uniqueEmail(prefix = 'client'): string {
  counter++
  return `${prefix}${counter}.${process.pid}@example.com`
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface TestServer {
  app: FastifyInstance
  /** The tRPC endpoint, `http://127.0.0.1:PORT/trpc`. */
  url: string
  port: number
  /** Requests that reached `/trpc/auth.refresh`, counted in an `onRequest` hook. */
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
  const app = Fastify({ logger: false })
  const server: TestServer = {
    app,
    url: '',
    port: 0,
    refreshes: 0,
    paths: [],
    close: () => app.close(),
  }
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0]!
    server.paths.push(path)
    if (path === '/trpc/auth.refresh') server.refreshes++
  })
  configure?.(app, server)
  await app.register(breakwater, { database: await database(), clockLeeway: 0, ...options })
  await app.listen({ host: '127.0.0.1', port })
  const address = app.server.address()
  server.port = typeof address === 'object' && address ? address.port : 0
  server.url = `http://127.0.0.1:${server.port}/trpc`
  return server
}

/**
 * A fetch with a cookie jar that honours Path and Max-Age, as a browser would:
 * the refresh cookie only goes to `/trpc/auth.refresh`. It also records the
 * request headers it sent, so tests can see the CSRF header.
 */
export function cookieJarFetch() {
  const jar = new Map<string, { value: string; path: string }>()
  const sent: Array<{
    method: string
    path: string
    headers: Record<string, string>
    credentials: string | undefined
  }> = []
  const fetchWithJar: FetchLike = async (input, init = {}) => {
    const url = new URL(input)
    const headers = new Headers(init.headers)
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
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='))
      if (maxAge && Number(maxAge.slice(8)) <= 0) jar.delete(name)
      else jar.set(name, { value: pair!.slice(eq + 1), path: pathAttr })
    }
    return response
  }
  return { fetch: fetchWithJar, jar, sent }
}

/** Registers a user straight over HTTP (no client involved). */
export async function registerUser(url: string, email = uniqueEmail()): Promise<string> {
  const response = await fetch(`${url}/auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  })
  if (response.status !== 200)
    throw new Error(`register failed: ${response.status} ${await response.text()}`)
  return email
}
