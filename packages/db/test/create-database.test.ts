import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import t from 'tap'
import {
  createDatabase,
  createSession,
  createUser,
  DatabaseError,
  DatabaseUnavailable,
  DataDirInsecure,
  findUserByEmail,
  isUnavailableError,
  MIGRATIONS,
  migrateToLatest,
  rotateRefreshToken,
} from '../src/index.js'
import { forEachDialect, startTestPostgres } from '../src/testing/index.js'
import { dumpAllTables } from './helpers.js'

const SECRET = 'hunter2-very-secret'

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const codeOf = (error: unknown) => (error instanceof DatabaseError ? error.code : error)

t.test('malformed URLs are DB_URL_INVALID and never echo the password', async (t) => {
  for (const url of [
    `postgres://user:${SECRET}@[bad-host/db`,
    `mysql://user:${SECRET}@localhost/db`,
    `http://user:${SECRET}@localhost/db`,
    `postgres://user:${SECRET}@localhost:notaport/db`,
    `not a url ${SECRET}`,
  ]) {
    const error = await createDatabase(url).catch((e: unknown) => e)
    t.equal(codeOf(error), 'DB_URL_INVALID', url.replace(SECRET, '***'))
    t.notMatch(String((error as Error).message), SECRET)
    t.notMatch(JSON.stringify(error), SECRET)
  }
  const listen = await createDatabase(`postgres://localhost/db`, {
    listenUrl: `ftp://u:${SECRET}@x`,
  }).catch((e: unknown) => e)
  t.equal(codeOf(listen), 'DB_URL_INVALID', 'listenUrl is validated too')
})

t.test('an unreachable server is DB_UNAVAILABLE, quickly, without the password', async (t) => {
  const port = await closedPort()
  const started = Date.now()
  const error = await createDatabase(`postgres://app:${SECRET}@127.0.0.1:${port}/app`).catch(
    (e: unknown) => e,
  )
  t.equal(codeOf(error), 'DB_UNAVAILABLE')
  t.ok(Date.now() - started < 5000, 'rejects within the connect timeout')
  t.match((error as Error).message, /app:\*\*\*@127\.0\.0\.1/)
  t.notMatch((error as Error).message, SECRET)
})

t.test('wrong password is DB_UNAVAILABLE without the password', async (t) => {
  const server = await startTestPostgres()
  const url = new URL(await server.createDatabaseUrl())
  url.password = SECRET
  const error = await createDatabase(url.toString()).catch((e: unknown) => e)
  t.equal(codeOf(error), 'DB_UNAVAILABLE')
  t.notMatch((error as Error).message, SECRET)
})

t.test('data directory that is a file is DB_DATA_DIR_UNWRITABLE', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bw-db-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'a-file')
  writeFileSync(file, 'not a directory')
  const error = await createDatabase(undefined, { dataDir: file }).catch((e: unknown) => e)
  t.equal(codeOf(error), 'DB_DATA_DIR_UNWRITABLE')
  t.match((error as Error).message, 'a-file')
  const nested = await createDatabase(undefined, { dataDir: path.join(file, 'below') }).catch(
    (e: unknown) => e,
  )
  t.equal(codeOf(nested), 'DB_DATA_DIR_UNWRITABLE', 'a directory below a file too')
})

t.test('embedded database persists in BREAKWATER_DATA_DIR', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bw-db-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const saved = process.env.BREAKWATER_DATA_DIR
  process.env.BREAKWATER_DATA_DIR = dir
  t.teardown(() => {
    if (saved === undefined) delete process.env.BREAKWATER_DATA_DIR
    else process.env.BREAKWATER_DATA_DIR = saved
  })
  const first = await createDatabase()
  t.equal(first.kind, 'pglite')
  t.equal(first.location, dir)
  await createUser(first.db, { email: 'persist@example.com', passwordHash: 'h' })
  await first.close()
  await first.close() // idempotent

  const second = await createDatabase(undefined, { dataDir: dir })
  t.teardown(() => second.close())
  t.ok(await findUserByEmail(second.db, 'persist@example.com'), 'data survived a reopen')
  t.same((await migrateToLatest(second.db)).applied, [], 'nothing left to migrate')
})

t.test('migrations: once, idempotent, and safe from instances booting together', async (t) => {
  const server = await startTestPostgres()
  const url = await server.createDatabaseUrl()
  const booted = await Promise.all(
    Array.from({ length: 4 }, () => createDatabase(url, { migrate: false, revocationSync: 'off' })),
  )
  t.teardown(() => Promise.all(booted.map((d) => d.close())))
  const reports = await Promise.all(booted.map((d) => migrateToLatest(d.db)))
  const applied = reports.flatMap((r) => r.applied)
  t.same(applied.sort(), Object.keys(MIGRATIONS).sort(), 'each migration ran exactly once')
  t.same((await migrateToLatest(booted[0]!.db)).applied, [], 'running again is a no-op')
  const { rows } = await sql<{
    n: number
  }>`select count(*)::int as n from breakwater.breakwater_migration`.execute(booted[0]!.db)
  t.equal(rows[0]?.n, Object.keys(MIGRATIONS).length)
})

const modeOf = (file: string) => lstatSync(file).mode & 0o777

/** Every file and directory under `dir` whose mode is not private (files 0600, dirs 0700). */
function notPrivate(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    const wanted = entry.isDirectory() ? 0o700 : 0o600
    if (modeOf(full) !== wanted) found.push(`${full} ${modeOf(full).toString(8)}`)
    if (entry.isDirectory()) found.push(...notPrivate(full))
  }
  return found
}

t.test('the embedded data directory is private: 0700, files 0600 (SPEC §2)', async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'bw-db-test-'))
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  const dir = path.join(parent, 'new', 'data')
  const first = await createDatabase(undefined, { dataDir: dir })
  t.equal(first.dataDir, dir, 'the resolved data directory is exposed')
  t.equal(first.location, dir)
  t.equal(modeOf(dir), 0o700, 'created 0700')
  t.equal(modeOf(path.join(dir, 'pglite')), 0o700)
  t.equal(modeOf(path.join(parent, 'new')), 0o700, 'missing parents too')
  t.same(notPrivate(dir), [], 'every file PGlite wrote at open is 0600, every directory 0700')
  await first.close()

  // Files and directories made readable since (an older version, a careless copy), and a
  // symbolic link to a file outside, which must not be followed.
  const outside = path.join(parent, 'outside.txt')
  writeFileSync(outside, 'not ours', { mode: 0o644 })
  chmodSync(outside, 0o644)
  symlinkSync(outside, path.join(dir, 'link'))
  chmodSync(path.join(dir, 'pglite'), 0o755)
  chmodSync(path.join(dir, 'pglite', 'PG_VERSION'), 0o666)
  chmodSync(path.join(dir, 'pglite', 'base'), 0o777)
  mkdirSync(path.join(dir, 'extra'), { mode: 0o755 })
  chmodSync(path.join(dir, 'extra'), 0o755)
  writeFileSync(path.join(dir, 'extra', 'secret'), 'x', { mode: 0o644 })
  chmodSync(path.join(dir, 'extra', 'secret'), 0o644)
  t.not(notPrivate(dir).length, 0, 'the test did loosen them')

  const second = await createDatabase(undefined, { dataDir: dir })
  t.teardown(() => second.close())
  t.same(notPrivate(dir), [], 'tightened at open')
  t.equal(modeOf(outside), 0o644, 'a link is not followed out of the directory')
  t.ok(await findUserByEmail(second.db, 'nobody@example.com').then(() => true))
})

t.test('a data directory others can read or write is refused, in one line', async (t) => {
  for (const mode of [0o755, 0o775, 0o750, 0o702]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bw-db-test-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    chmodSync(dir, mode)
    const octal = mode.toString(8).padStart(4, '0')
    const error = await createDatabase(undefined, { dataDir: dir }).catch((e: unknown) => e)
    t.type(error, DataDirInsecure, octal)
    t.equal(codeOf(error), 'DB_DATA_DIR_INSECURE')
    const message = String((error as Error).message)
    t.notMatch(message, /\n/, 'one line')
    t.match(message, dir, 'names the directory')
    t.match(message, `mode ${octal}`, 'and its mode')
    t.match(message, `chmod 700 ${dir}`, 'and the fix')
    t.equal((error as DataDirInsecure).dataDir, dir)
    t.equal((error as DataDirInsecure).mode, mode)
    t.same(readdirSync(dir), [], 'refused before anything was written')
    t.equal(modeOf(dir), mode, 'and left as it was')
  }
  const searchOnly = mkdtempSync(path.join(tmpdir(), 'bw-db-test-'))
  t.teardown(() => rmSync(searchOnly, { recursive: true, force: true }))
  chmodSync(searchOnly, 0o711)
  const opened = await createDatabase(undefined, { dataDir: searchOnly })
  t.teardown(() => opened.close())
  t.equal(opened.dataDir, searchOnly, 'search-only (0711) lists and opens nothing: accepted')
})

t.test('PGlite failing to open is DatabaseUnavailable, like every outage', async (t) => {
  const waitReady = Promise.reject(new Error('wasm aborted'))
  waitReady.catch(() => {})
  const broken = { waitReady, dataDir: undefined, closed: false } as unknown as PGlite
  const error = await createDatabase(undefined, { pglite: broken }).catch((e: unknown) => e)
  t.type(error, DatabaseUnavailable)
  t.equal(codeOf(error), 'DB_UNAVAILABLE')
  t.equal(isUnavailableError(error), true, 'isUnavailableError recognises it')
})

forEachDialect(t, async (t, { db, kind, ping, dataDir }, dialect) => {
  t.test('ping, kind and dataDir', async (t) => {
    await ping()
    t.equal(kind, dialect)
    t.equal(dataDir, undefined, 'no data directory for PostgreSQL or in-memory PGlite')
  })

  t.test('a dump of every table holds no refresh token or password', async (t) => {
    const password = 'correct horse battery staple'
    const refreshToken = `rt_${crypto.randomUUID()}_plaintext`
    const successor = `rt_${crypto.randomUUID()}_successor`
    // What the server stores: hashes and a sealed successor, never the plaintexts.
    const hash = async (s: string) =>
      Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s))).toString(
        'base64url',
      )
    const user = await createUser(db, {
      email: 'dump@example.com',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$ZmFrZWhhc2g',
    })
    await createSession(db, {
      userId: user.id,
      refreshTokenHash: await hash(refreshToken),
      idleTtlSeconds: 60,
      maxAgeSeconds: 600,
    })
    await rotateRefreshToken(db, {
      presentedHash: await hash(refreshToken),
      newTokenHash: await hash(successor),
      sealedSuccessor: Buffer.from(crypto.getRandomValues(new Uint8Array(60))).toString(
        'base64url',
      ),
      graceSeconds: 10,
      idleTtlSeconds: 60,
    })
    const dump = await dumpAllTables(db)
    t.match(dump, 'dump@example.com', 'the dump is real')
    for (const secret of [password, refreshToken, successor]) {
      t.notMatch(dump, secret)
    }
  })
})
