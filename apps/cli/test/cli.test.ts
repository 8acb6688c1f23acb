import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { breakwater } from '@breakwater/server'
import Fastify from 'fastify'
import t, { type Test } from 'tap'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const PASSWORD = 'a sturdy passphrase 42'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built CLI as a child process, as `pnpm breakwater` would. */
function cli(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: env.BREAKWATER_CONFIG_DIR ?? tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}

let database: Database
const configDir = await mkdtemp(path.join(tmpdir(), 'bw-cli-'))
t.teardown(async () => {
  await rm(configDir, { recursive: true, force: true })
  await database?.close()
})

database = await openTestDatabase('pglite')
// Fastify's default 10 s for a plugin to register is a start-up budget; beside other
// suites on two cores the plugin's start (its hashing process) has taken longer.
const app = Fastify({ logger: false, pluginTimeout: 60_000 })
let refreshes = 0
app.addHook('onRequest', async (request) => {
  if (request.url.startsWith('/trpc/auth.refresh')) refreshes++
})
await app.register(breakwater, { database, accessTokenTtl: 2, clockLeeway: 0 })
await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
const env = { BREAKWATER_URL: url, BREAKWATER_CONFIG_DIR: configDir }
const credentials = path.join(configDir, 'credentials.json')
const email = `cli.${process.pid}@example.com`

function noLeaks(t: Test, run: Run, secrets: string[] = []) {
  const all = run.stdout + run.stderr
  t.notMatch(all, /\n\s+at /, 'no stack trace')
  t.notMatch(all, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in output')
  for (const secret of secrets) t.notOk(all.includes(secret), 'no secret in output')
}

t.test('register, whoami after expiry, sessions, revoke, logout', async (t) => {
  const registered = await cli(['register', '--email', email], env, `${PASSWORD}\n`)
  t.equal(registered.code, 0, registered.stderr)
  t.match(registered.stdout, `Registered and signed in as ${email}`)
  noLeaks(t, registered, [PASSWORD])
  t.equal((await stat(credentials)).mode & 0o777, 0o600, 'credentials file is 0600')
  const firstTokens = JSON.parse(await readFile(credentials, 'utf8')) as { refreshToken: string }

  const login = await cli(['login', '--email', email], env, `${PASSWORD}\n`)
  t.equal(login.code, 0, login.stderr)
  t.match(login.stdout, `Signed in as ${email}`)
  noLeaks(t, login, [PASSWORD])

  await sleep(2100)
  const before = refreshes
  const who = await cli(['whoami'], env)
  t.equal(who.code, 0, who.stderr)
  t.equal(who.stdout.trim(), email, 'whoami works after the access token expired')
  t.equal(refreshes - before, 1, 'by refreshing once')
  const rotated = JSON.parse(await readFile(credentials, 'utf8')) as { refreshToken: string }
  t.not(rotated.refreshToken, firstTokens.refreshToken, 'the rotated refresh token was saved')
  t.equal((await stat(credentials)).mode & 0o777, 0o600, 'still 0600 after rotation')
  noLeaks(t, who, [rotated.refreshToken])

  const list = await cli(['sessions'], env)
  t.equal(list.code, 0, list.stderr)
  const lines = list.stdout.trim().split('\n')
  t.match(lines[0], /^ID\s+CURRENT\s+CREATED\s+LAST USED\s+USER AGENT$/)
  t.equal(lines.length, 3, 'two sessions: register and login')
  const other = lines.slice(1).find((line) => !/^\S+\s+\*/.test(line))!
  const current = lines.slice(1).find((line) => /^\S+\s+\*/.test(line))!
  t.ok(other && current)
  t.match(current, /breakwater-cli\/0\.1\.0/, 'the CLI names itself as the user agent')

  const otherId = other.split(/\s+/)[0]!
  const revoked = await cli(['revoke', otherId], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, `Revoked session ${otherId}.`)
  const after = await cli(['sessions'], env)
  t.equal(after.stdout.trim().split('\n').length, 2, 'one session left')
  const missing = await cli(['revoke', otherId], env)
  t.equal(missing.code, 1)
  t.equal(missing.stderr, 'breakwater: No such session.\n')

  const out = await cli(['logout'], env)
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, 'Signed out.')
  await t.rejects(stat(credentials), { code: 'ENOENT' }, 'credentials deleted')
  const whoAfter = await cli(['whoami'], env)
  t.equal(whoAfter.code, 1)
  t.match(whoAfter.stderr, /^breakwater: Not signed in\./)
  t.equal(whoAfter.stderr.split('\n').filter(Boolean).length, 1, 'one line')
})

t.test('bad password: one clear line, non-zero exit', async (t) => {
  const run = await cli(['login', '--email', email], env, 'wrong password entirely\n')
  t.equal(run.code, 1)
  t.equal(run.stderr, 'breakwater: Wrong email or password.\n')
  t.equal(run.stdout, '')
  noLeaks(t, run, ['wrong password entirely'])
})

t.test('unreachable server: one clear line, non-zero exit', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  const downUrl = `http://127.0.0.1:${port}`
  const down = { ...env, BREAKWATER_URL: downUrl }
  const run = await cli(['login', '--email', email], down, `${PASSWORD}\n`)
  t.equal(run.code, 1)
  t.equal(
    run.stderr,
    `breakwater: Cannot reach the Breakwater server at ${downUrl} (ECONNREFUSED).\n`,
  )
  noLeaks(t, run, [PASSWORD])
  const flag = await cli(['whoami', '--url', downUrl], env)
  t.equal(flag.code, 1, 'not signed in either way')
})

t.test('usage errors', async (t) => {
  const noEmail = await cli(['login'], env, `${PASSWORD}\n`)
  t.equal(noEmail.code, 2)
  t.equal(noEmail.stderr, 'breakwater: --email is required.\n')
  const unknown = await cli(['frobnicate'], env)
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /^breakwater: Unknown command: frobnicate/)
  const badFlag = await cli(['whoami', '--nope'], env)
  t.equal(badFlag.code, 2)
  t.equal(badFlag.stderr.split('\n').filter(Boolean).length, 1)
  const help = await cli(['--help'], env)
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: breakwater <command>/)
})
