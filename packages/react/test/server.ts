import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { type BreakwaterOptions, breakwater } from '@breakwater/server'
import Fastify from 'fastify'

export const PASSWORD = 'a sturdy passphrase 42'

let counter = 0
export function uniqueEmail(prefix = 'react'): string {
  counter++
  return `${prefix}${counter}.${process.pid}@example.com`
}

let shared: Database | undefined

export async function closeDatabase(): Promise<void> {
  await shared?.close()
  shared = undefined
}

export interface TestServer {
  /** `http://127.0.0.1:PORT/trpc` */
  url: string
  /** Every request path the server saw, in order. */
  paths: string[]
  close(): Promise<void>
}

/** A real Fastify with the Breakwater plugin on PGlite, on a free loopback port. */
export async function startServer(options: Partial<BreakwaterOptions> = {}): Promise<TestServer> {
  shared ??= await openTestDatabase('pglite')
  // Fastify's default 10 s for a plugin to register is a start-up budget; beside other
  // suites on two cores the plugin's start (its hashing process) has taken longer.
  const app = Fastify({ logger: false, pluginTimeout: 60_000 })
  const paths: string[] = []
  app.addHook('onRequest', async (request) => {
    paths.push(request.url.split('?')[0]!)
  })
  await app.register(breakwater, {
    database: shared,
    secret: Buffer.alloc(32, 9).toString('base64url'),
    loginIpLimit: '1000/1m',
    ...options,
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { url: `http://127.0.0.1:${port}/trpc`, paths, close: () => app.close() }
}

/** Registers a user straight over HTTP, no client involved. */
export async function registerUser(url: string, email = uniqueEmail()): Promise<string> {
  const response = await fetch(`${url}/auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
  })
  if (response.status !== 200) throw new Error(`register failed: ${response.status}`)
  return email
}

/**
 * A fetch with a cookie jar honouring Path and Max-Age, as a browser's: what
 * the cookie transport needs in Node (jsdom's window has no fetch of its own).
 */
export function cookieJarFetch() {
  const jar = new Map<string, { value: string; path: string }>()
  const fetchWithJar = async (
    input: RequestInfo | URL | string,
    init: RequestInit = {},
  ): Promise<Response> => {
    const url = new URL(typeof input === 'object' && 'url' in input ? input.url : input)
    const headers = new Headers(init.headers)
    const pairs = [...jar]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
    if (pairs.length) headers.set('cookie', pairs.join('; '))
    const response = await fetch(input, { ...init, headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='))
      if (maxAge && Number(maxAge.slice(8)) <= 0) jar.delete(name)
      else jar.set(name, { value: pair!.slice(eq + 1), path })
    }
    return response
  }
  return { fetch: fetchWithJar, jar }
}
