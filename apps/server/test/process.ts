import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@breakwater/db/testing'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Ends a server this test process started if the process dies without its teardown. */
const EXIT_WITH_PARENT = path.resolve(ROOT, '../../tools/exit-with-parent.mjs')

export interface Running {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<number | null>
}

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'breakwater-app-'))
}

/**
 * Runs one of the app's built entry points (`main`, `keys`) as `pnpm start` and `pnpm keys`
 * do. The build comes first: `pnpm test` builds everything, and this package's turbo.json
 * makes its own test task depend on its own build. (From source through a loader, each
 * start cost about 1.5 s more CPU.)
 */
export function runEntry(entry: 'main' | 'keys', env: Record<string, string>, args: string[] = []) {
  const entryFile = path.join(ROOT, 'dist', `${entry}.js`)
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, entryFile, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  child.stderr.on('data', (chunk) => {
    out += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

/** Starts the server and waits until /healthz answers (bounded: 90 s; a first start on two loaded cores has taken over 30). */
export async function startApp(env: Record<string, string>): Promise<Running> {
  const port = await freePort()
  const run = runEntry('main', { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    const code = await Promise.race([
      run.exited,
      new Promise((r) => setTimeout(() => r('running'), 100)),
    ])
    if (code !== 'running') throw new Error(`server exited early (${code}):\n${run.output()}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { ...run, url }
    } catch {
      // not listening yet
    }
  }
  run.child.kill('SIGKILL')
  throw new Error(`server did not start:\n${run.output()}`)
}
