import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase } from '@breakwater/db'
import { startTestPostgres } from '@breakwater/db/testing'
import { sql } from 'kysely'
import t from 'tap'
import { commandSettingsFromEnv, runBreakwaterCommand } from '../src/index.js'
import { TEST_SECRET } from './helpers.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/bin.ts')

/** `breakwater …` in this process, with exactly the given environment. */
async function breakwater(args: string[], env: Record<string, string>) {
  const { settings, problems } = commandSettingsFromEnv(env)
  if (problems.length > 0)
    return { code: 1, out: problems.map((p) => `breakwater: ${p}\n`).join('') }
  let out = ''
  const write = (line: string) => {
    out += `${line}\n`
  }
  const code = await runBreakwaterCommand(args, settings, { out: write, err: write })
  return { code, out }
}

t.test('the bin itself: usage on a wrong command, exit 2', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'migrate', '--force'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  child.stderr.on('data', (chunk) => {
    out += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 2)
  t.match(out, /^usage: breakwater migrate \[--dry-run\] \| breakwater keys rotate/)
})

t.test('migrate --dry-run creates nothing; migrate applies; again: up to date', async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'breakwater-cli-'))
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  const dataDir = path.join(parent, 'data')
  const dry = await breakwater(['migrate', '--dry-run'], { BREAKWATER_DATA_DIR: dataDir })
  t.equal(dry.code, 0, dry.out)
  t.match(dry.out, /\(schema breakwater\): 12 pending: 2026_11_25_000001_create_users, /)
  t.notOk(existsSync(dataDir), 'a dry run created nothing')

  const applied = await breakwater(['migrate'], { BREAKWATER_DATA_DIR: dataDir })
  t.equal(applied.code, 0, applied.out)
  t.match(
    applied.out,
    /applied 2026_11_25_000001_create_users, .*2026_12_01_000012_one_token_per_purpose$/m,
  )
  const again = await breakwater(['migrate', '--dry-run'], { BREAKWATER_DATA_DIR: dataDir })
  t.match(again.out, /up to date, nothing to apply/)
  const usage = await breakwater(['keys', 'spin'], { BREAKWATER_DATA_DIR: dataDir })
  t.equal(usage.code, 2)
})

t.test('a failing migration prints the real cause, on one line, with no password', async (t) => {
  const server = await startTestPostgres()
  const url = await server.createDatabaseUrl()
  const raw = await createDatabase(url, { migrate: false, revocationSync: 'off' })
  // A schema someone else already uses for something else.
  await sql`create schema auth`.execute(raw.db)
  await sql`create table auth.users (handle text)`.execute(raw.db)
  await raw.close()
  const env = { DATABASE_URL: url, DATABASE_SCHEMA: 'auth', BREAKWATER_SECRET: TEST_SECRET }

  const dry = await breakwater(['migrate', '--dry-run'], env)
  t.equal(dry.code, 0, dry.out)
  t.match(dry.out, /\(schema auth\): 12 pending/)
  const failed = await breakwater(['migrate'], env)
  t.equal(failed.code, 1)
  t.match(
    failed.out,
    /^breakwater: database: DB_MIGRATION_FAILED: migration 2026_11_25_000001_create_users failed: relation "users" already exists/,
  )
  t.equal(failed.out.trim().split('\n').length, 1, 'one line')
  const password = new URL(url).password
  t.ok(password.length > 0)
  t.notOk(failed.out.includes(password), 'no password')

  const badSchema = await breakwater(['migrate'], { ...env, DATABASE_SCHEMA: 'Robert; drop' })
  t.equal(badSchema.code, 1)
  t.match(badSchema.out, /^breakwater: DATABASE_SCHEMA: must be a lower-case identifier/)
  t.notMatch(badSchema.out, /Robert/, 'the bad value is not echoed')
})
