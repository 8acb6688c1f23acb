// Issue #14, the CLI part: verify, reset-password, change-email, delete-account
// and login --code, end to end against a real server whose mail goes to an
// outbox folder (its development default), read here as a user would.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBreakwaterClient } from '@breakwater/client'
import { fileTokenStore } from '@breakwater/client/node'
import type { Database } from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { type BreakwaterRouter, breakwater } from '@breakwater/server'
import Fastify from 'fastify'
import t, { type Test } from 'tap'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const SRC = fileURLToPath(new URL('../src', import.meta.url))
const PUBLIC_URL = 'https://app.example.test'
const PASSWORD = 'a sturdy passphrase 42'
const NEW_PASSWORD = 'an even sturdier passphrase 43'
const LINK_INVALID = 'breakwater: This link is invalid, used or expired. Ask for a new one.\n'
// Well formed, so it reaches the server, which has never minted it.
const UNKNOWN_TOKEN = 'Zm9yZ2VkLXRva2VuLW5vYm9keS1taW50ZWQtdGhpcw'
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
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  return {
    send: (text: string) => child.stdin.write(text),
    end: (text = '') => child.stdin.end(text),
    done,
  }
}

/** Runs the CLI with all of stdin given up front. */
function cli(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  const run = start(args, env)
  run.end(input)
  return run.done
}

// The subtests use their own accounts and folders: they run side by side (each mostly waits on a CLI process).
t.jobs = 3

let database: Database
const root = await mkdtemp(path.join(tmpdir(), 'bw-cli-account-'))
const outbox = path.join(root, 'outbox')
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
  publicUrl: PUBLIC_URL,
  mail: { outboxDir: outbox },
  // Every test here asks for mail and tries links from one address: the limits are not under test.
  mailLimit: '100/15m',
  loginIpLimit: '1000/1m',
})
await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

/** An account's own credentials folder, as a second user on the machine would have. */
async function user(name: string) {
  const configDir = await mkdtemp(path.join(root, `${name}-`))
  return {
    email: `${name}.${process.pid}@example.com`,
    env: { BREAKWATER_URL: url, BREAKWATER_CONFIG_DIR: configDir },
    credentials: path.join(configDir, 'credentials.json'),
  }
}

const read = new Set<string>()

/**
 * The next mail made from `template` to `to`, decoded (nodemailer writes the
 * text part quoted-printable, so long lines break with `=` and `=` is `=3D`).
 * Bounded: 20 s (the mail is written after the CLI's call answers, by a server on loaded cores).
 */
async function nextMail(template: string, to: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const names = (await readdir(outbox).catch(() => [] as string[])).sort()
    for (const name of names) {
      if (read.has(name) || !name.includes(`-${template}-`)) continue
      const text = (await readFile(path.join(outbox, name), 'utf8'))
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        )
      // Another subtest's mail stays unread for it.
      if (!new RegExp(`^To: ${to.replace(/[.+]/g, '\\$&')}$`, 'im').test(text)) continue
      read.add(name)
      return text
    }
    await sleep(20)
  }
  throw new Error(`no ${template} mail to ${to} within 20 s`)
}

/** The link (`<PUBLIC_URL>/<page>?token=…`) in a mail, and its token. */
function linkIn(mail: string, page: string): { link: string; token: string } {
  const match = new RegExp(`${PUBLIC_URL}/${page}\\?token=([A-Za-z0-9_-]+)`).exec(mail)
  if (!match) throw new Error(`no ${page} link in the mail`)
  return { link: match[0], token: match[1]! }
}

/**
 * Runs a command that mails something and then asks for it: waits for the
 * mail, then answers on stdin with what `answer` makes of it (stdin ends
 * either way, so a failed wait never leaves the CLI waiting).
 */
async function answerMail(
  args: string[],
  env: Record<string, string>,
  template: string,
  to: string,
  answer: (mail: string) => string,
): Promise<{ run: Run; mail: string }> {
  const child = start(args, env)
  let mail = ''
  let input = ''
  try {
    mail = await nextMail(template, to)
    input = answer(mail)
  } finally {
    child.end(input)
  }
  return { run: await child.done, mail }
}

function codeIn(mail: string): string {
  const match = /code is (\d{6})\./.exec(mail)
  if (!match) throw new Error('no code in the mail')
  return match[1]!
}

/** Registers in this process, into the account's credentials file (register itself is cli.test.ts's). */
async function register(account: Awaited<ReturnType<typeof user>>) {
  const client = createBreakwaterClient<BreakwaterRouter>({
    url: `${url}/trpc`,
    transport: 'bearer',
    store: fileTokenStore(account.credentials),
  })
  await client.auth.register.mutate({ email: account.email, password: PASSWORD })
}

function noLeaks(t: Test, run: Run, secrets: string[]) {
  const all = run.stdout + run.stderr
  t.notMatch(all, /\n\s+at /, 'no stack trace')
  t.notMatch(all, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in output')
  t.notOk(
    secrets.some((secret) => all.includes(secret)),
    'no password, token or code in output',
  )
}

t.test('verify: mail a link, refuse garbage, verify with the pasted link', async (t) => {
  const ada = await user('ada')
  await register(ada)
  const before = await cli(['whoami'], ada.env)
  t.equal(before.stdout, `${ada.email}\n`, 'stdout is the address alone, for scripts')
  t.match(before.stderr, /^\(unverified/, 'whoami says the address is unverified')

  const sent = await cli(['verify'], ada.env)
  t.equal(sent.code, 0, sent.stderr)
  t.match(sent.stdout, `Sent a verification link to ${ada.email}`)
  const { link, token } = linkIn(await nextMail('verifyEmail', ada.email), 'verify-email')

  const garbage = await cli(['verify', 'not-a-token'], ada.env)
  t.equal(garbage.code, 1, 'garbage: exit 1')
  t.equal(garbage.stderr, LINK_INVALID, 'one clear line')
  const unknown = await cli(
    ['verify', `${PUBLIC_URL}/verify-email?token=${UNKNOWN_TOKEN}`],
    ada.env,
  )
  t.equal(unknown.code, 1, 'a token the server never minted: exit 1')
  t.equal(unknown.stderr, LINK_INVALID)
  const wrongPage = await cli(['verify', `${PUBLIC_URL}/reset-password?token=${token}`], ada.env)
  t.equal(wrongPage.code, 2, 'a link of another command: usage error')
  t.equal(
    wrongPage.stderr,
    "breakwater: This link is for another command: breakwater reset-password '<link>'.\n",
  )
  const still = await cli(['whoami'], ada.env)
  t.match(still.stderr, /^\(unverified/, 'nothing changed')

  // Signed out (another folder, no credentials): the link alone is the proof.
  const verified = await cli(['verify', `<${link}>`], (await user('anon')).env)
  t.equal(verified.code, 0, verified.stderr)
  t.equal(verified.stdout, 'Email address verified.\n')
  noLeaks(t, verified, [token])
  const after = await cli(['whoami'], ada.env)
  t.equal(after.stdout, `${ada.email}\n`)
  t.equal(after.stderr, '', 'no longer unverified')

  const again = await cli(['verify', token], ada.env)
  t.equal(again.code, 1, 'a used link: exit 1')
  t.equal(again.stderr, LINK_INVALID)
  const already = await cli(['verify'], ada.env)
  t.equal(already.code, 0)
  t.equal(already.stdout, `${ada.email} is already verified.\n`)
  for (const run of [sent, garbage, unknown, wrongPage, again, already]) noLeaks(t, run, [token])
})

t.test('reset-password: garbage changes nothing; request, paste, reset', async (t) => {
  const bob = await user('bob')
  const other = await user('other')
  await register(bob)
  await register(other)

  const garbage = await cli(['reset-password', 'x'], bob.env, `${NEW_PASSWORD}\n`)
  t.equal(garbage.code, 1)
  t.equal(garbage.stderr, LINK_INVALID)
  // One base64url token in 64 starts with '-': it is still the link, not an option.
  const dashed = await cli(['reset-password', `-T${'A'.repeat(41)}`], bob.env, `${NEW_PASSWORD}\n`)
  t.equal(dashed.code, 1, 'a token starting with - is read as the token')
  t.equal(dashed.stderr, LINK_INVALID)
  const dashedLast = await cli(['verify', '--url', url, '--', `--${'b'.repeat(42)}`], bob.env)
  t.equal(dashedLast.stderr, LINK_INVALID, "after '--' as well")
  t.equal((await cli(['whoami'], bob.env)).code, 0, 'the session still works: nothing changed')

  // Asks, then waits on stdin: nothing comes (the user gave up).
  const first = await answerMail(
    ['reset-password', '--email', bob.email],
    bob.env,
    'resetPassword',
    bob.email,
    () => '',
  )
  t.equal(first.run.code, 2, 'no link on stdin: usage error')
  t.match(first.run.stdout, `If ${bob.email} has an account, a reset link is on its way`)
  const { token } = linkIn(first.mail, 'reset-password')

  // A weak password is refused before the link is spent.
  let second = { link: '', token: '' }
  const weak = await answerMail(
    ['reset-password', '--email', bob.email],
    bob.env,
    'resetPassword',
    bob.email,
    (mail) => {
      second = linkIn(mail, 'reset-password')
      return `${second.link}\nshort\n`
    },
  )
  t.equal(weak.run.code, 1, 'a weak password: exit 1')
  t.match(weak.run.stderr, /^breakwater: The password is too weak: .* The link still works/)
  t.equal(weak.run.stderr.split('\n').filter(Boolean).length, 1, 'one line')

  // The link still works, and another account's credentials here are kept.
  const reset = await cli(['reset-password', second.link], other.env, `${NEW_PASSWORD}\n`)
  t.equal(reset.code, 0, reset.stderr)
  t.equal(reset.stdout, 'Password changed. Every session of the account has ended.\n')
  t.equal(
    (await cli(['whoami'], other.env)).stdout,
    `${other.email}\n`,
    "another's credentials stay",
  )

  const oldSession = await cli(['whoami'], bob.env)
  t.equal(oldSession.code, 1, "bob's stored session ended with the reset")
  const login = await cli(['login', '--email', bob.email], bob.env, `${NEW_PASSWORD}\n`)
  t.equal(login.code, 0, 'the new password works')

  // The whole flow at once, signed in as the account: its credentials are forgotten.
  let third = { link: '', token: '' }
  const flow = await answerMail(
    ['reset-password', '--email', bob.email],
    bob.env,
    'resetPassword',
    bob.email,
    (mail) => {
      third = linkIn(mail, 'reset-password')
      return `${third.link}\n${PASSWORD}\n`
    },
  )
  t.equal(flow.run.code, 0, flow.run.stderr)
  t.match(flow.run.stdout, 'Password changed.')
  t.match(flow.run.stdout, 'The stored credentials were for it: signed out here.')
  await t.rejects(stat(bob.credentials), { code: 'ENOENT' }, 'credentials deleted')

  const used = await cli(['reset-password', third.token], bob.env, `${NEW_PASSWORD}\n`)
  t.equal(used.code, 1, 'a used link: exit 1')
  t.equal(used.stderr, LINK_INVALID)
  const secrets = [PASSWORD, NEW_PASSWORD, 'short', token, second.token, third.token]
  for (const run of [garbage, first.run, weak.run, reset, login, flow.run, used])
    noLeaks(t, run, secrets)
})

t.test('change-email: wrong password, request, garbage, confirm', async (t) => {
  const cy = await user('cy')
  await register(cy)
  const newEmail = `cy.new.${process.pid}@example.com`

  const wrong = await cli(['change-email', '--email', newEmail], cy.env, 'not my password at all\n')
  t.equal(wrong.code, 1)
  t.equal(wrong.stderr, 'breakwater: Wrong password. Your email address is unchanged.\n')
  const same = await cli(['change-email', '--email', cy.email], cy.env, `${PASSWORD}\n`)
  t.equal(same.code, 1)
  t.equal(same.stderr, 'breakwater: That is already your email address.\n')

  const asked = await cli(['change-email', '--email', newEmail], cy.env, `${PASSWORD}\n`)
  t.equal(asked.code, 0, asked.stderr)
  t.match(asked.stdout, `a confirmation link is on its way to it`)
  const { link, token } = linkIn(await nextMail('changeEmail', newEmail), 'confirm-email-change')
  t.match(await nextMail('emailChangeNotice', cy.email), newEmail, 'the old address got a notice')

  const garbage = await cli(['change-email', `${PUBLIC_URL}/confirm-email-change?token=`], cy.env)
  t.equal(garbage.code, 1)
  t.equal(garbage.stderr, LINK_INVALID)
  t.equal((await cli(['whoami'], cy.env)).stdout, `${cy.email}\n`, 'nothing changed')

  const confirmed = await cli(['change-email', link], cy.env)
  t.equal(confirmed.code, 0, confirmed.stderr)
  t.equal(confirmed.stdout, 'Email address changed.\n')
  const who = await cli(['whoami'], cy.env)
  t.equal(who.stdout, `${newEmail}\n`, 'the session goes on under the new address')
  t.equal(who.stderr, '', 'confirmed through its mailbox: verified')
  for (const run of [wrong, same, asked, garbage, confirmed])
    noLeaks(t, run, [PASSWORD, 'not my password at all', token])
})

t.test('delete-account: wrong password or confirmation change nothing', async (t) => {
  const dee = await user('dee')
  await register(dee)

  const wrong = await cli(['delete-account', '--yes'], dee.env, 'not my password at all\n')
  t.equal(wrong.code, 1)
  t.equal(wrong.stderr, 'breakwater: Wrong password: nothing was deleted.\n')
  const mismatch = await cli(['delete-account'], dee.env, `${PASSWORD}\nsomeone@else.example\n`)
  t.equal(mismatch.code, 1)
  t.equal(mismatch.stderr, `breakwater: That is not ${dee.email}: nothing was deleted.\n`)
  const unanswered = await cli(['delete-account'], dee.env, `${PASSWORD}\n`)
  t.equal(unanswered.code, 2, 'no confirmation and no --yes: usage error')
  t.equal(unanswered.stderr, 'breakwater: Type the account email to confirm, or pass --yes.\n')
  t.equal((await cli(['whoami'], dee.env)).stdout, `${dee.email}\n`, 'the account still works')

  const deleted = await cli(['delete-account'], dee.env, `${PASSWORD}\n${dee.email}\n`)
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal(deleted.stdout, `Deleted the account ${dee.email}; signed out.\n`)
  await t.rejects(stat(dee.credentials), { code: 'ENOENT' }, 'credentials deleted')
  const login = await cli(['login', '--email', dee.email], dee.env, `${PASSWORD}\n`)
  t.equal(login.code, 1, 'the account is gone')
  t.equal(login.stderr, 'breakwater: Wrong email or password.\n')
  for (const run of [wrong, mismatch, unanswered, deleted, login])
    noLeaks(t, run, [PASSWORD, 'not my password at all'])
})

t.test('login --code: a mailed code signs in; a wrong one does not', async (t) => {
  const eve = await user('eve')
  await register(eve)
  await rm(eve.credentials)

  let wrongCode = ''
  const wrong = await answerMail(
    ['login', '--code', '--email', eve.email],
    eve.env,
    'signInCode',
    eve.email,
    (mail) => {
      wrongCode = codeIn(mail)
      return `${String((Number(wrongCode) + 1) % 1_000_000).padStart(6, '0')}\n`
    },
  )
  t.equal(wrong.run.code, 1)
  t.equal(
    wrong.run.stderr,
    'breakwater: Wrong or expired code. Ask for a new one: breakwater login --code --email <email>\n',
  )
  await t.rejects(stat(eve.credentials), { code: 'ENOENT' }, 'no credentials stored')

  let code = ''
  const { run: signedIn } = await answerMail(
    ['login', '--code', '--email', eve.email],
    eve.env,
    'signInCode',
    eve.email,
    (mail) => {
      code = codeIn(mail)
      // As copied from some mail clients: with a space in the middle.
      return `${code.slice(0, 3)} ${code.slice(3)}\n`
    },
  )
  t.equal(signedIn.code, 0, signedIn.stderr)
  t.match(signedIn.stdout, `Signed in as ${eve.email}.`)
  t.equal((await stat(eve.credentials)).mode & 0o777, 0o600, 'credentials file is 0600')
  const who = await cli(['whoami'], eve.env)
  t.equal(who.stdout, `${eve.email}\n`)
  t.equal(who.stderr, '', 'a code through the mailbox verifies the address')
  for (const out of [wrong.run, signedIn, who]) noLeaks(t, out, [PASSWORD, code, wrongCode])
})

t.test('usage and signed-out errors', async (t) => {
  const nobody = await user('nobody')
  const cases: [string[], number, RegExp][] = [
    [['reset-password'], 2, /^breakwater: Usage: breakwater reset-password --email/],
    [['change-email'], 2, /^breakwater: Usage: breakwater change-email --email/],
    [['verify'], 1, /^breakwater: Not signed in\./],
    [['change-email', '--email', 'x@example.com'], 1, /^breakwater: Not signed in\./],
    [['delete-account', '--yes'], 1, /^breakwater: Not signed in\./],
  ]
  for (const [args, code, stderr] of cases) {
    const run = await cli(args, nobody.env, `${PASSWORD}\n`)
    t.equal(run.code, code, args.join(' '))
    t.match(run.stderr, stderr)
    t.equal(run.stderr.split('\n').filter(Boolean).length, 1, 'one line')
  }
  const help = await cli(['--help'], nobody.env)
  t.match(help.stdout, /reset-password --email E/)
  t.match(help.stdout, /delete-account \[--yes\]/)
})
