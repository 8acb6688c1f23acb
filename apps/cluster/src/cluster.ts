import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startTestPostgres, type TestPostgres } from '@breakwater/db/testing'

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many `apps/server` processes. Default 3. */
  readonly instances?: number
  /** Environment of every instance, over the harness defaults (`LOG_LEVEL=warn`, …). */
  readonly env?: Readonly<Record<string, string>>
  /** Extra environment for one instance, over `env` (e.g. one instance in poll mode). */
  readonly instanceEnv?: (index: number) => Readonly<Record<string, string>>
  /**
   * `buffer` (default) keeps each instance's last 64 KiB of output for {@link Instance.output};
   * `inherit` also copies it to this process's stdout, each line prefixed `[n]`.
   */
  readonly output?: 'buffer' | 'inherit'
  /**
   * Run on this database instead of a fresh one on the test server (it must be on that
   * server, or be reachable, and may be empty: the first instance migrates it).
   */
  readonly databaseUrl?: string
  /** How long one instance may take to answer `/readyz`. Default 30 s. */
  readonly startTimeoutMs?: number
}

/** How an instance's process ended. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One `apps/server` process of a cluster; keeps its port (and URL) across restarts. */
export interface Instance {
  readonly index: number
  readonly url: string
  readonly port: number
  /** The current child process (a new one after {@link Instance.restart}). */
  readonly process: ChildProcess
  /** Whether the current process is still running. */
  readonly alive: boolean
  /** Sends `signal` (default SIGTERM) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<Exit>
  /** Stops the process if it runs (SIGTERM), starts a new one on the same port, waits for `/readyz`. */
  restart(): Promise<void>
  /** `process.memoryUsage().heapUsed` after a full GC, asked over IPC (see `src/instance-probe.mjs`). */
  heapUsed(): Promise<number>
  /** The last 64 KiB the instance wrote to stdout and stderr. */
  output(): string
}

/** A running cluster: N instances on one throwaway PostgreSQL database. */
export interface Cluster {
  readonly urls: readonly string[]
  readonly instances: readonly Instance[]
  readonly postgres: TestPostgres
  /** The database every instance uses (a fresh one on the test server unless given). */
  readonly databaseUrl: string
  /** Stops every instance (SIGTERM, then SIGKILL after 12 s), then PostgreSQL when it is embedded. */
  stop(): Promise<void>
}

const OUTPUT_LIMIT = 64 * 1024
// Plain JavaScript, not compiled: the same file serves src/ (tests) and dist/ (pnpm cluster).
const PROBE = fileURLToPath(new URL('../src/instance-probe.mjs', import.meta.url))

/** Where the built `apps/server` entry points are (`main` serves, `keys` rotates). */
export function serverEntry(entry: 'main' | 'keys'): string {
  const require = createRequire(import.meta.url)
  const root = path.dirname(require.resolve('@breakwater/server-app/package.json'))
  const file = path.join(root, 'dist', `${entry}.js`)
  if (!existsSync(file)) {
    throw new Error(
      `@breakwater/cluster: ${file} is missing; build it first (turbo run build --filter=@breakwater/cluster...)`,
    )
  }
  return file
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Every child of this process, killed outright if the process exits without stop():
// a failed test must not leave servers holding ports.
const live = new Set<ChildProcess>()
let exitHook = false
function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL')
  })
}

class ServerInstance implements Instance {
  readonly index: number
  #port: number
  readonly #env: Record<string, string>
  readonly #inherit: boolean
  readonly #startTimeoutMs: number
  #child: ChildProcess | undefined
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null })
  #output = ''
  #pending = new Map<string, (heapUsed: number) => void>()

  constructor(
    index: number,
    port: number,
    env: Record<string, string>,
    inherit: boolean,
    startTimeoutMs: number,
  ) {
    this.index = index
    this.#port = port
    this.#env = env
    this.#inherit = inherit
    this.#startTimeoutMs = startTimeoutMs
  }

  get port(): number {
    return this.#port
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  get process(): ChildProcess {
    if (!this.#child) throw new Error(`instance ${this.index} was never started`)
    return this.#child
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.signalCode
  }

  output(): string {
    return this.#output
  }

  #record(chunk: Buffer | string): void {
    const text = chunk.toString()
    this.#output = (this.#output + text).slice(-OUTPUT_LIMIT)
    if (this.#inherit) {
      const lines = text.split('\n').filter((line) => line.length > 0)
      for (const line of lines) process.stdout.write(`[${this.index}] ${line}\n`)
    }
  }

  /**
   * Starts the process on this instance's port; `firstStart` lets it move to another
   * free port when that one was taken meanwhile (by another process on a shared machine).
   */
  async start(firstStart = false): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#startOnce()
      } catch (error) {
        if (!firstStart || attempt >= 3 || !(error as Error).message.includes('EADDRINUSE'))
          throw error
        this.#port = await freePort()
      }
    }
  }

  async #startOnce(): Promise<void> {
    let bound = false
    const child = fork(serverEntry('main'), [], {
      cwd: path.dirname(path.dirname(serverEntry('main'))),
      env: { ...this.#env, PORT: String(this.port) },
      execArgv: ['--expose-gc', '--import', PROBE],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: a Ctrl-C in the terminal reaches the harness only, which
      // then stops the instances itself, once each, in order.
      detached: true,
    })
    track(child)
    this.#child = child
    child.stdout?.on('data', (chunk) => this.#record(chunk))
    child.stderr?.on('data', (chunk) => this.#record(chunk))
    child.on(
      'message',
      (message: { type?: string; id?: string; heapUsed?: number; port?: number }) => {
        if (message?.type === 'listening' && message.port === this.port) bound = true
        if (message?.type !== 'heap' || !message.id) return
        this.#pending.get(message.id)?.(message.heapUsed ?? Number.NaN)
        this.#pending.delete(message.id)
      },
    )
    // An IPC write to a process that just died must not crash the harness.
    child.on('error', () => {})
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    )
    const deadline = Date.now() + this.#startTimeoutMs
    while (Date.now() < deadline) {
      if (!this.alive) {
        const exit = await this.#exited
        await sleep(100) // 'exit' can come before the last of stderr
        throw new Error(
          `instance ${this.index} exited during start (${exit.code ?? exit.signal}):\n${this.#output}`,
        )
      }
      // Only once this process has bound the port is the answer its own.
      try {
        if (bound) {
          const reply = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) })
          if (reply.ok) return
        }
      } catch {
        // not answering yet
      }
      await sleep(100)
    }
    child.kill('SIGKILL')
    throw new Error(
      `instance ${this.index} was not ready within ${this.#startTimeoutMs} ms:\n${this.#output}`,
    )
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    const child = this.#child
    if (child && this.alive) {
      child.kill(signal)
      // The server gives itself 10 s to drain; past 12 s something is stuck.
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000)
      try {
        return await this.#exited
      } finally {
        clearTimeout(timer)
      }
    }
    return this.#exited
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM')
    await this.start()
  }

  heapUsed(): Promise<number> {
    const child = this.#child
    if (!child || !this.alive || !child.connected)
      return Promise.reject(new Error(`instance ${this.index} is not running`))
    const id = randomUUID()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`instance ${this.index} did not report its heap within 10 s`))
      }, 10_000)
      this.#pending.set(id, (heapUsed) => {
        clearTimeout(timer)
        resolve(heapUsed)
      })
      child.send({ type: 'heap', id })
    })
  }
}

/**
 * Starts a throwaway PostgreSQL (`startTestPostgres()`: embedded PostgreSQL 17, or
 * `TEST_DATABASE_URL`'s server), creates a fresh database on it, and runs N processes of
 * the built `apps/server` (`node apps/server/dist/main.js`) on free loopback ports, all
 * on that database. The first instance starts alone (it migrates and creates the signing
 * keys), the rest together.
 *
 * @example
 * ```ts
 * const cluster = await startCluster({ instances: 3, env: { ACCESS_TOKEN_TTL: '5s' } })
 * console.log(cluster.urls)
 * await cluster.instances[0].kill('SIGKILL')
 * await cluster.stop()
 * ```
 */
/**
 * The key-encryption secret of every cluster this process starts (clusters of one
 * process may share a database, so they share the secret too).
 */
export const CLUSTER_SECRET = randomBytes(32).toString('base64url')

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 3
  if (!Number.isInteger(count) || count < 1 || count > 32)
    throw new TypeError('@breakwater/cluster: instances must be an integer from 1 to 32')
  serverEntry('main')
  const postgres = await startTestPostgres()
  // A previous cluster of this process may have stopped the shared server.
  if (postgres.controllable) await postgres.start()
  const databaseUrl = options.databaseUrl ?? (await postgres.createDatabaseUrl())
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    // One key-encryption secret for every instance: they share the sealed signing keys.
    BREAKWATER_SECRET: CLUSTER_SECRET,
    LOG_LEVEL: 'warn',
    ...options.env,
  }
  const instances: ServerInstance[] = []
  for (let index = 0; index < count; index++) {
    instances.push(
      new ServerInstance(
        index,
        await freePort(),
        { ...base, ...options.instanceEnv?.(index) },
        options.output === 'inherit',
        options.startTimeoutMs ?? 30_000,
      ),
    )
  }
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all(instances.map((instance) => instance.kill('SIGTERM')))
    if (postgres.controllable) await postgres.stop()
  }
  try {
    await instances[0]!.start(true)
    await Promise.all(instances.slice(1).map((instance) => instance.start(true)))
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  return {
    urls: instances.map((instance) => instance.url),
    instances,
    postgres,
    databaseUrl,
    stop,
  }
}
