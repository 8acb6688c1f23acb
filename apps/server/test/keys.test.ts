import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { generateSecret } from '@breakwater/tokens'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { runEntry, startApp, tempDataDir } from './process.js'

const PASSWORD = 'correct horse battery staple 7'
const POSTGRES = 'postgres://app:s3cret-pw@127.0.0.1:9/breakwater'

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env)
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

t.test(
  'BREAKWATER_SECRET: parsed as a list, required with DATABASE_URL, never echoed',
  async (t) => {
    const [a, b] = [generateSecret(), generateSecret()]
    t.equal(loadConfig({}).secret, undefined, 'optional on the embedded database')
    t.same(loadConfig({ BREAKWATER_SECRET: ` ${a} , ${b} ` }).secret, [a, b], 'newest first')
    t.same(loadConfig({ DATABASE_URL: POSTGRES, BREAKWATER_SECRET: a }).secret, [a])

    const missing = problemsOf({ DATABASE_URL: POSTGRES })
    t.equal(missing.length, 1)
    t.match(missing[0], /^BREAKWATER_SECRET: required with DATABASE_URL .*randomBytes\(32\)/)

    const short = randomBytes(22).toString('base64url')
    for (const [value, message] of [
      [
        short,
        /^BREAKWATER_SECRET: secret must decode to at least 32 random bytes, it has 22; make one with/,
      ],
      [`${a},${short}`, /^BREAKWATER_SECRET: secret \(entry 2\) must decode to at least 32/],
      [`${a}+/==`, /^BREAKWATER_SECRET: secret is not base64url/],
      [`${a.slice(0, -1)}B`, /^BREAKWATER_SECRET: secret is not canonical base64url/],
    ] as const) {
      const problems = problemsOf({ DATABASE_URL: POSTGRES, BREAKWATER_SECRET: value })
      t.equal(problems.length, 1, 'one line, not a second "required" one')
      t.match(problems[0], message)
      t.notOk(problems[0]?.includes(short), 'the value is not in it')
    }
  },
)

t.test('DATABASE_URL without BREAKWATER_SECRET: one clear line, exit 1', async (t) => {
  const run = runEntry('main', { DATABASE_URL: POSTGRES, PORT: '0' })
  t.equal(await run.exited, 1)
  const lines = run.output().trim().split('\n')
  t.equal(lines.length, 1, run.output())
  t.match(lines[0], /^breakwater: BREAKWATER_SECRET: required with DATABASE_URL /)
  t.notMatch(run.output(), /s3cret-pw/)
})

t.test('keys rewrap: "new,old", then the new secret alone; the old alone fails', async (t) => {
  const dataDir = tempDataDir()
  const first = await startApp({ BREAKWATER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  t.teardown(() => first.child.kill('SIGKILL'))
  const reg = await fetch(`${first.url}/trpc/auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-breakwater-csrf': '1' },
    body: JSON.stringify({ email: 'rewrap@example.com', password: PASSWORD, transport: 'bearer' }),
  })
  const { accessToken } = (
    (await reg.json()) as { result: { data: { tokens: { accessToken: string } } } }
  ).result.data.tokens
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)

  const oldSecret = readFileSync(path.join(dataDir, 'secret'), 'utf8').trim()
  const newSecret = generateSecret()
  const rewrap = runEntry(
    'keys',
    { BREAKWATER_DATA_DIR: dataDir, BREAKWATER_SECRET: `${newSecret},${oldSecret}` },
    ['rewrap'],
  )
  t.equal(await rewrap.exited, 0, rewrap.output())
  t.match(
    rewrap.output(),
    /^2 signing keys sealed under the first secret: 2 rewrapped, 0 sealed from plaintext, 0 already current\n/,
  )
  t.notOk(rewrap.output().includes(newSecret) || rewrap.output().includes(oldSecret), 'counts only')

  const second = await startApp({
    BREAKWATER_DATA_DIR: dataDir,
    BREAKWATER_SECRET: newSecret,
    LOG_LEVEL: 'silent',
  })
  t.teardown(() => second.child.kill('SIGKILL'))
  const me = await fetch(`${second.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  })
  t.equal(me.status, 200, 'the same signing keys, opened with the new secret alone')
  second.child.kill('SIGTERM')
  await second.exited

  const stale = runEntry('main', {
    BREAKWATER_DATA_DIR: dataDir,
    BREAKWATER_SECRET: oldSecret,
    PORT: '0',
  })
  t.equal(await stale.exited, 1, 'the old secret alone no longer starts the server')
  t.match(stale.output(), /signing key \S+ cannot be decrypted with BREAKWATER_SECRET/)
  t.notOk(
    stale.output().includes(oldSecret) || stale.output().includes(newSecret),
    'no secret in it',
  )

  const rotate = runEntry('keys', { BREAKWATER_DATA_DIR: dataDir, BREAKWATER_SECRET: oldSecret }, [
    'rotate',
  ])
  t.equal(await rotate.exited, 1, 'rotate refuses too, with one line')
  t.match(
    rotate.output(),
    /^breakwater: signing key \S+ cannot be decrypted with BREAKWATER_SECRET/,
  )
  t.notMatch(rotate.output(), /\n\s+at /, 'no stack trace')
})
