import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { Browser } from 'playwright-core'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/**
 * The client's source bundled for a page with esbuild, as `window.Breakwater`
 * (its exports). From `src`, not `dist`: a package's tests run before the
 * package itself is built.
 */
export async function bundleClient(): Promise<string> {
  const { build } = await import('esbuild')
  const result = await build({
    stdin: { contents: "export * from './index.js'", resolveDir: SRC, loader: 'ts' },
    bundle: true,
    format: 'iife',
    globalName: 'Breakwater',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/**
 * What the test page runs: one client per tab, as an app would make it
 * (cookie transport, same origin, defaults: coordination and the live stream
 * on), and a record of what it heard, for `page.evaluate` to read.
 */
const PAGE_SCRIPT = `
const heard = []
const expired = []
const auth = Breakwater.createBreakwaterAuth({
  url: '/trpc',
  transport: 'cookie',
  onSessionExpired: (event) => expired.push({ ...event, at: Date.now() }),
})
auth.subscribe((s) => heard.push({ state: s.state, reason: s.reason, revocation: s.revocation, at: Date.now() }))
const client = Breakwater.createBreakwaterClient({ auth })
window.tab = { auth, client, heard, expired }
`

const PAGE_HTML =
  '<!doctype html><meta charset="utf-8"><title>live</title><link rel="icon" href="data:,"><script src="/live/client.js"></script><script src="/live/page.js"></script>'

/** Serves the test page at `/live/` on the app (same origin as its `/trpc`, so cookies flow). */
export function servePage(app: FastifyInstance, bundle: string): void {
  app.get('/live/', (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE_HTML))
  app.get('/live/client.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(bundle),
  )
  app.get('/live/page.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(PAGE_SCRIPT),
  )
}

/** Chromium flags for a closed network: no sync, no component updates, no background fetches. */
const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-gpu',
]

/** `@sparticuz/chromium`'s flags less those that would change what we test (as apps/web's support.ts). */
const DROPPED_FLAGS =
  /^--(disable-web-security|allow-running-insecure-content|disable-site-isolation-trials|single-process|no-zygote|headless)/
const DROPPED_FEATURES = /^--disable-features=/

/**
 * Chromium without a download at run time, found as apps/web's tests find it:
 * `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`, else the one
 * `@sparticuz/chromium` ships in its npm package.
 */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  let executablePath = process.env.CHROMIUM_PATH || undefined
  let args: string[] = []
  if (!executablePath && existsSync('/usr/bin/chromium')) executablePath = '/usr/bin/chromium'
  if (!executablePath) {
    const sparticuz = (await import('@sparticuz/chromium')).default
    executablePath = await sparticuz.executablePath()
    args = sparticuz.args.filter(
      (flag) => !DROPPED_FLAGS.test(flag) && !DROPPED_FEATURES.test(flag),
    )
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...args, ...QUIET_FLAGS],
    timeout: 60_000,
  })
}
