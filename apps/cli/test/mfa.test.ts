// SPEC §10, the CLI part: mfa enable/disable, the login's second factor and the
// step-up prompt, end to end against a real server whose clock the test moves
// (a TOTP step on instead of waiting 30 s, past STEP_UP_MAX_AGE instead of 10 min).
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBreakwaterClient } from '@breakwater/client'
import { fileTokenStore } from '@breakwater/client/node'
import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { type BreakwaterRouter, breakwater } from '@breakwater/server'
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateHOTP } from '@oslojs/otp'
import Fastify from 'fastify'
import t, { type Test } from 'tap'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const SRC = fileURLToPath(new URL('../src', import.meta.url))
const PASSWORD = 'a sturdy passphrase 42'
const WRONG_PASSWORD = 'not my password at all'
const STEP_MS = 30_000
/** Past the server's default `STEP_UP_MAX_AGE` (10 min). */
const PAST_STEP_UP = 11 * 60_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// These tests run the built CLI, as users do: an older build would test old code.
const built = (await stat(MAIN).catch(() => undefined))?.mtimeMs ?? 0
const sources = (await readdir(SRC, { recursive: true })).filter((file) => file.endsWith('.ts'))
const newest = Math.max(
  ...(await Promise.all(sources.map(async (file) => (await stat(path.join(SRC, file))).mtimeMs))),
)
if (built < newest)
  throw new Error('apps/cli/dist is older than src: run pnpm --filter @breakwater/cli-app build')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The built CLI as a child process whose stdin stays open until `end`. */
function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: env.BREAKWATER_CONFIG_DIR ?? tmpdir(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let exited = false
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  // A CLI that exited early closes its end: writing then is the test's problem, not a crash.
  child.stdin.on('error', () => {})
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      exited = true
      resolve({ code, stdout, stderr })
    })
  })
  return {
    send: (text: string) => child.stdin.write(text),
    end: (text = '') => child.stdin.end(text),
    /**
     * The first match of `pattern` on stdout, once it appears. Bounded: 20 s (a CLI started
     * on two loaded cores can take seconds to print), or the CLI's exit.
     */
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      for (let i = 0; i < 1000; i++) {
        const match = pattern.exec(stdout)
        if (match) return match
        if (exited) break
        await sleep(20)
      }
      throw new Error(`no ${pattern} on stdout; stdout: ${stdout}; stderr: ${stderr}`)
    },
    done,
  }
}

/** Runs the CLI with all of stdin given up front. */
function cli(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  const run = start(args, env)
  run.end(input)
  return run.done
}

// One clock for the server and the codes computed here; the subtests move it, so they run in order.
let offset = 0
const now = () => Date.now() + offset

let database: Database
const root = await mkdtemp(path.join(tmpdir(), 'bw-cli-mfa-'))
t.teardown(async () => {
  await rm(root, { recursive: true, force: true })
  await database?.close()
})

database = await openTestDatabase('pglite')
// Fastify's default 10 s for a plugin to register is a start-up budget; beside other
// suites on two cores the plugin's start (its hashing process) has taken longer.
const app = Fastify({ logger: false, pluginTimeout: 60_000 })
await app.register(breakwater, {
  database,
  publicUrl: 'https://app.example.test',
  mail: { outboxDir: path.join(root, 'outbox') },
  // Wrong codes and passwords on purpose, all on one account: the limits are not under test.
  loginIpLimit: '1000/1m',
  loginAccountLimit: '100/15m',
  clock: now,
})
await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

const configDir = await mkdtemp(path.join(root, 'ada-'))
const env = { BREAKWATER_URL: url, BREAKWATER_CONFIG_DIR: configDir }
const credentials = path.join(configDir, 'credentials.json')
const email = `ada.${process.pid}@example.com`

/** The TOTP code of `secret` (base32) `delta` steps from the server's now. */
function totp(secret: string, delta = 0): string {
  const step = Math.floor(now() / STEP_MS) + delta
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(step), 6)
}

/**
 * A code of a step no code was used at yet: the clock moves a step on first,
 * as 30 s of waiting would (the server refuses a step already used).
 */
function nextCode(secret: string): string {
  offset += STEP_MS
  return totp(secret)
}

/** A well-formed code outside the accepted window (±1 step). */
function wrongCode(secret: string): string {
  const valid = [-1, 0, 1].map((delta) => totp(secret, delta))
  for (let delta = 10; ; delta++) {
    const code = totp(secret, delta)
    if (!valid.includes(code)) return code
  }
}

const secrets = { totp: '', recoveryCodes: [] as string[], codes: [] as string[] }
const runs: Run[] = []
/** Keeps a run for the final leak check, and returns it. */
function kept(run: Run): Run {
  runs.push(run)
  return run
}

/** Runs `mfa enable`, answering each code once the secret is printed; stdin ends after. */
async function enable(before: string, answer: (secret: string) => string) {
  const child = start(['mfa', 'enable'], env)
  child.send(before)
  let secret = ''
  let input = ''
  try {
    secret = (await child.waitFor(/^ {2}Secret: ([A-Z2-7]+)$/m))[1]!
    input = answer(secret)
  } finally {
    // Either way, so a failed wait never leaves the CLI waiting.
    child.end(input)
  }
  return { run: kept(await child.done), secret }
}

t.test('mfa enable: secret and URI, a wrong code asked again, 10 recovery codes', async (t) => {
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: `${url}/trpc`,
    transport: 'bearer',
    store: fileTokenStore(credentials),
  })
  await client.auth.register.mutate({ email, password: PASSWORD })

  let wrong = ''
  let right = ''
  const { run, secret } = await enable('', (secret) => {
    wrong = wrongCode(secret)
    right = totp(secret)
    return `${wrong}\n${right.slice(0, 3)} ${right.slice(3)}\n`
  })
  secrets.totp = secret
  secrets.codes.push(wrong, right)
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^ {2}otpauth:\/\/totp\/[^\s]+secret=[A-Z2-7]+/m, 'the URI, for the app')
  t.match(run.stdout, new RegExp(`secret=${secret}`), 'the URI carries the printed secret')
  t.match(run.stdout, 'Two-factor sign-in is on')
  t.match(run.stdout, /Store them somewhere safe now: they are not shown again\./)
  secrets.recoveryCodes = [...run.stdout.matchAll(/^ {2}([a-z2-7]{5}-[a-z2-7]{5})$/gm)].map(
    (match) => match[1]!,
  )
  t.equal(secrets.recoveryCodes.length, 10, '10 recovery codes')
  t.equal(new Set(secrets.recoveryCodes).size, 10, 'all different')
  t.equal(
    run.stderr,
    'Wrong code, try again with the one the app shows now.\n',
    'stderr: the retry note alone (piped stdin: no prompts)',
  )

  const again = kept(await cli(['mfa', 'enable'], env))
  t.equal(again.code, 1)
  t.equal(
    again.stderr,
    'breakwater: Two-factor sign-in is already on. To set up another app, run breakwater mfa disable first.\n',
  )
  t.equal(again.stdout, '', 'no new secret printed')
})

t.test('login asks for the second factor', async (t) => {
  await rm(credentials)
  const wrong = wrongCode(secrets.totp)
  secrets.codes.push(wrong)
  const refused = kept(await cli(['login', '--email', email], env, `${PASSWORD}\n${wrong}\n`))
  t.equal(refused.code, 1, 'a wrong code: exit 1')
  t.equal(
    refused.stderr,
    'breakwater: Wrong code, or this sign-in expired: run breakwater login again.\n',
  )
  t.equal(refused.stdout, '')
  await t.rejects(stat(credentials), { code: 'ENOENT' }, 'nothing stored')

  const code = nextCode(secrets.totp)
  secrets.codes.push(code)
  const signedIn = kept(await cli(['login', '--email', email], env, `${PASSWORD}\n${code}\n`))
  t.equal(signedIn.code, 0, signedIn.stderr)
  t.equal(signedIn.stdout, `Signed in as ${email}.\n`)
  t.equal((await stat(credentials)).mode & 0o777, 0o600, 'credentials file is 0600')

  // As some people copy it: upper case.
  const recovery = secrets.recoveryCodes[0]!
  const byRecovery = kept(
    await cli(['login', '--email', email], env, `${PASSWORD}\n${recovery.toUpperCase()}\n`),
  )
  t.equal(byRecovery.code, 0, byRecovery.stderr)
  t.equal(byRecovery.stdout, `Signed in as ${email}.\n`)
  const reused = kept(await cli(['login', '--email', email], env, `${PASSWORD}\n${recovery}\n`))
  t.equal(reused.code, 1, 'a recovery code works once')
  t.equal(
    reused.stderr,
    'breakwater: Wrong code, or this sign-in expired: run breakwater login again.\n',
  )
  t.equal(kept(await cli(['whoami'], env)).stdout, `${email}\n`, 'signed in all along')
})

t.test('step-up: after STEP_UP_MAX_AGE a change asks the password again', async (t) => {
  offset += PAST_STEP_UP
  const newEmail = `ada.new.${process.pid}@example.com`
  const change = ['change-email', '--email', newEmail]

  const unanswered = kept(await cli(change, env, `${PASSWORD}\n`))
  t.equal(unanswered.code, 1, 'no password for the step-up: exit 1')
  t.equal(
    unanswered.stderr,
    'breakwater: This change needs you to confirm it is you: run the command again and enter your password when asked.\n',
  )

  const wrong = kept(await cli(change, env, `${PASSWORD}\n${WRONG_PASSWORD}\n`))
  t.equal(wrong.code, 1, 'a wrong password, then nothing: exit 1')
  t.equal(
    wrong.stderr,
    'Wrong password, try again.\nbreakwater: Wrong password: nothing was changed.\n',
  )

  const confirmed = kept(await cli(change, env, `${PASSWORD}\n${WRONG_PASSWORD}\n${PASSWORD}\n`))
  t.equal(confirmed.code, 0, confirmed.stderr)
  t.match(confirmed.stdout, 'a confirmation link is on its way to it')
  t.equal(confirmed.stderr, 'Wrong password, try again.\n', 'asked again, then it went through')

  // Renewed for the session: within the window nothing more is asked.
  const code = nextCode(secrets.totp)
  secrets.codes.push(code)
  const disabled = kept(await cli(['mfa', 'disable'], env, `${code}\n`))
  t.equal(disabled.code, 0, disabled.stderr)
  t.equal(disabled.stdout, 'Two-factor sign-in is off; the recovery codes no longer work.\n')
  t.equal(disabled.stderr, '')
})

t.test('mfa disable and enable after the window; login back to the password alone', async (t) => {
  const passwordOnly = kept(await cli(['login', '--email', email], env, `${PASSWORD}\n`))
  t.equal(passwordOnly.code, 0, passwordOnly.stderr)
  t.equal(passwordOnly.stdout, `Signed in as ${email}.\n`, 'no second factor asked')

  offset += PAST_STEP_UP
  // The password comes first: enroll is refused before anything is printed.
  let code = ''
  const { run, secret } = await enable(`${PASSWORD}\n`, (secret) => {
    code = totp(secret)
    return `${code}\n`
  })
  secrets.codes.push(code)
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '', 'the password went through at once')
  t.not(secret, secrets.totp, 'a new secret')
  const recoveryCodes = [...run.stdout.matchAll(/^ {2}([a-z2-7]{5}-[a-z2-7]{5})$/gm)]
  t.equal(recoveryCodes.length, 10)

  offset += PAST_STEP_UP
  const wrong = wrongCode(secret)
  secrets.codes.push(wrong)
  const refused = kept(await cli(['mfa', 'disable'], env, `${wrong}\n${PASSWORD}\n`))
  t.equal(refused.code, 1)
  t.equal(
    refused.stderr,
    'breakwater: Wrong code, or no authenticator app is set up: nothing changed.\n',
  )
  const malformed = kept(await cli(['mfa', 'disable'], env, '12345\n'))
  t.equal(malformed.code, 1)
  t.equal(malformed.stderr, 'breakwater: A code from the app is 6 digits.\n')

  // The step-up above renewed the session: the code alone does it now.
  const next = nextCode(secret)
  secrets.codes.push(next)
  const disabled = kept(await cli(['mfa', 'disable'], env, `${next}\n`))
  t.equal(disabled.code, 0, disabled.stderr)
  t.match(disabled.stdout, 'Two-factor sign-in is off')
})

t.test('usage and signed-out errors', async (t) => {
  const usage = kept(await cli(['mfa', 'on'], env))
  t.equal(usage.code, 2)
  t.equal(usage.stderr, 'breakwater: Usage: breakwater mfa enable, or breakwater mfa disable\n')
  const nobody = { ...env, BREAKWATER_CONFIG_DIR: await mkdtemp(path.join(root, 'nobody-')) }
  const signedOut = kept(await cli(['mfa', 'enable'], nobody, '123456\n'))
  t.equal(signedOut.code, 1)
  t.match(signedOut.stderr, /^breakwater: Not signed in\./)
  const help = kept(await cli(['--help'], env))
  t.match(help.stdout, /mfa enable {2,}set up an authenticator app/)
  t.match(help.stdout, /mfa disable {2,}turn the authenticator app off/)
})

t.test('nothing secret in the output beyond what mfa enable prints', async (t) => {
  const all = [PASSWORD, WRONG_PASSWORD, ...secrets.codes, ...secrets.recoveryCodes]
  t.ok(secrets.totp && secrets.recoveryCodes.length === 10, 'the secrets are known')
  for (const run of runs) noLeaks(t, run, run.stdout.includes('Secret:') ? [] : [secrets.totp])
  function noLeaks(t: Test, run: Run, extra: string[]) {
    const stdout = run.stdout.includes('Secret:') ? '' : run.stdout
    const text = stdout + run.stderr
    t.notMatch(text, /\n\s+at /, 'no stack trace')
    t.notMatch(text, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in output')
    const leaked = [...all, ...extra].filter((secret) => text.includes(secret))
    t.same(leaked, [], 'no password, code or secret in output')
  }
})
