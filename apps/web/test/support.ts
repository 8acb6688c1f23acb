import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, seedPGliteDataDir } from '@breakwater/db/testing'
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { chromium as playwright } from 'playwright-core'

export const WEB_ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_MAIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url))
const EXIT_WITH_PARENT = fileURLToPath(
  new URL('../../../tools/exit-with-parent.mjs', import.meta.url),
)
export const ARTIFACTS = path.join(WEB_ROOT, 'test-artifacts')
export const PASSWORD = 'a sturdy passphrase 42'

/**
 * How long a test waits for the page to show something when the wait is not what the test
 * measures (the speed bounds have their own, shorter waits): long enough for a machine
 * whose cores other suites keep busy.
 */
export const UI_WAIT_MS = 30_000

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let unique = 0
/** A fresh address per call, so tests never share an account by accident. */
export function newEmail(label: string): string {
  unique++
  return `${label}-${process.pid}-${unique}-${Date.now().toString(36)}@example.com`
}

/** A temporary directory removed when `cleanup` runs. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * Builds the web app with Vite's JS API into `outDir` (turbo builds a
 * package's dependencies before its tests, not the package itself).
 */
async function buildWeb(outDir: string): Promise<void> {
  const { build } = await import('vite')
  await build({
    configFile: path.join(WEB_ROOT, 'vite.config.ts'),
    root: WEB_ROOT,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  })
}

// What a build reads besides node_modules: the app's sources and the built packages it
// imports (the lockfile stands for the rest).
const BUILD_INPUTS = [
  'src',
  'index.html',
  'vite.config.ts',
  'package.json',
  '../../packages/client/dist',
  '../../packages/react/dist',
  '../../packages/protocol/dist',
  '../../pnpm-lock.yaml',
].map((input) => path.join(WEB_ROOT, input))

function filesUnder(input: string): string[] {
  if (!existsSync(input)) return []
  if (!statSync(input).isDirectory()) return [input]
  return readdirSync(input, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
}

/**
 * The web app built once for its current sources and shared by the suite's files: the
 * build lands in the temporary directory under a hash of its inputs, so only the first
 * file to ask (or two, racing) runs Vite. Read it; never write into it.
 */
export async function builtWeb(): Promise<string> {
  const hash = createHash('sha256')
  for (const file of BUILD_INPUTS.flatMap(filesUnder)) {
    hash.update(path.relative(WEB_ROOT, file)).update('\0').update(readFileSync(file))
  }
  const dir = path.join(tmpdir(), `breakwater-web-${hash.digest('hex').slice(0, 20)}`)
  if (existsSync(path.join(dir, 'index.html'))) return dir
  const partial = `${dir}.${process.pid}`
  await buildWeb(partial)
  // Renamed whole, so no reader sees half a build; a file that raced here and lost drops its own.
  await rename(partial, dir).catch(() => rm(partial, { recursive: true, force: true }))
  return dir
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  port: number
  stop(): Promise<void>
}

/** Environment for the server; a function when a value needs the port (`PUBLIC_URL`). */
export type ServerEnv = Record<string, string> | ((port: number) => Record<string, string>)

/** Starts `apps/server` (built) as a child process with a fresh PGlite directory, serving `webDir`. */
export async function startServer(webDir: string, env: ServerEnv = {}): Promise<RunningServer> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} is missing: build @breakwater/server-app first (turbo does)`)
  }
  const data = await tempDir('bw-web-data-')
  // An initialised, empty cluster: the server's first start skips initdb and still migrates.
  await seedPGliteDataDir(data.dir)
  const port = await freePort()
  const extra = typeof env === 'function' ? env(port) : env
  const child: ChildProcess = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: data.dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      BREAKWATER_DATA_DIR: data.dir,
      BREAKWATER_WEB_DIR: webDir,
      ACCESS_TOKEN_TTL: '3s',
      CLOCK_LEEWAY: '0s',
      LOGIN_IP_LIMIT: '1000/1m',
      LOG_LEVEL: 'silent',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const origin = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    await data.cleanup()
  }
  // Bounded wait for /healthz: 300 × 100 ms.
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break
    try {
      const response = await fetch(`${origin}/healthz`)
      if (response.ok) return { origin, port, stop }
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  await stop()
  throw new Error(`server did not start: ${stderr.trim() || 'no output'}`)
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

/**
 * `@sparticuz/chromium`'s serverless flags, less those that would change what
 * we test: `--disable-web-security` (and its kin) turns off the same-origin
 * policy and so CORS; `--single-process` and the headless mode are Playwright's
 * business.
 */
const DROPPED_FLAGS =
  /^--(disable-web-security|allow-running-insecure-content|disable-site-isolation-trials|single-process|no-zygote|headless)/
const DROPPED_FEATURES = /^--disable-features=/

/**
 * What every browser suite starts with: the web app built into a temp dir and a
 * real server serving it with `env`, both torn down when the file's test ends.
 */
export async function serveBuiltApp(
  t: { teardown(fn: () => unknown): void },
  env: ServerEnv,
): Promise<RunningServer & { webDir: string }> {
  const webDir = await builtWeb()
  const server = await startServer(webDir, env)
  t.teardown(server.stop)
  return { ...server, webDir }
}

/**
 * Chromium without a download at run time: `CHROMIUM_PATH`, else Debian's
 * `/usr/bin/chromium`, else the one `@sparticuz/chromium` ships in its npm package.
 */
export async function launchBrowser(): Promise<Browser> {
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
  return playwright.launch({
    executablePath,
    headless: true,
    args: [...args, ...QUIET_FLAGS],
    timeout: 60_000,
  })
}

/** Fails on any request that leaves this machine (the page must need nothing else). */
export function guardNetwork(context: BrowserContext, offenders: string[]): void {
  context.on('request', (request) => {
    const { hostname, protocol } = new URL(request.url())
    if (protocol === 'data:' || protocol === 'about:') return
    if (hostname !== '127.0.0.1' && hostname !== 'localhost') offenders.push(request.url())
  })
}

/** Counts `auth.refresh` requests (and their statuses) on the wire. */
export class RefreshCounter {
  readonly requests: Request[] = []
  readonly statuses: number[] = []

  constructor(target: Page | BrowserContext) {
    target.on('request', (request) => {
      if (new URL(request.url()).pathname === '/trpc/auth.refresh') this.requests.push(request)
    })
    target.on('response', (response) => {
      if (new URL(response.url()).pathname === '/trpc/auth.refresh')
        this.statuses.push(response.status())
    })
  }

  get count(): number {
    return this.requests.length
  }

  reset(): void {
    this.requests.length = 0
    this.statuses.length = 0
  }
}

/** Fills the sign-in form and presses sign in or sign up; waits for the signed-in view. */
export async function signIn(
  page: Page,
  email: string,
  mode: 'sign-in' | 'sign-up',
  password = PASSWORD,
): Promise<void> {
  await page.getByTestId('email').fill(email)
  await page.getByTestId('password').fill(password)
  await page.getByTestId(mode).click()
  await page.getByTestId('me-email').waitFor({ timeout: UI_WAIT_MS })
}

/**
 * Closes the laptop lid: page clocks (timers, `Date`) stop while real time,
 * and with it cookie expiry, goes on. Call the returned function to open it:
 * the page clocks jump to now and due timers fire once, in every tab at once
 * (Playwright's `clock.fastForward`). Needs `context.clock.install()` first.
 */
export async function sleepLid(
  context: BrowserContext,
): Promise<(options?: { wake?: boolean }) => Promise<void>> {
  // A hair ahead: the page clocks run on real time and must not be set back. A page that
  // synced its clock past that hair before the call reached it (a loaded browser answers
  // late) refuses it as "the past"; a later hair then does.
  let pausedAt = Date.now()
  for (let attempt = 1; ; attempt++) {
    try {
      await context.clock.pauseAt(pausedAt + 20)
      break
    } catch (error) {
      if (attempt === 5 || !/fast-forward to the past/.test(String(error))) throw error
      pausedAt = Date.now() + 50 * attempt
    }
  }
  return async ({ wake = true } = {}) => {
    if (wake) await context.clock.fastForward(Math.max(0, Date.now() - pausedAt))
    await context.clock.resume()
  }
}

/** What page JavaScript can see of cookies and storage. */
export async function visibleSecrets(
  page: Page,
): Promise<{ cookie: string; local: string[]; session: string[] }> {
  return page.evaluate(() => ({
    cookie: document.cookie,
    local: Object.keys(localStorage).map((key) => `${key}=${localStorage.getItem(key)}`),
    session: Object.keys(sessionStorage).map((key) => `${key}=${sessionStorage.getItem(key)}`),
  }))
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, name)
  await page.screenshot({ path: file, fullPage: true })
  return file
}
