import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { runEntry, tempDataDir } from './process.js'

t.test('defaults', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: undefined,
    issuer: 'breakwater',
    accessTokenTtl: 900,
    refreshIdleTtl: 604_800,
    sessionMaxAge: 2_592_000,
    refreshReuseGrace: 10,
    clockLeeway: 5,
    cookieSecure: 'auto',
    loginAccountLimit: '5/15m',
    loginIpLimit: '30/1m',
    trustProxy: false,
    logLevel: 'info',
    revocationSync: 'notify',
    verificationTtl: 86_400,
    passwordResetTtl: 1_800,
    emailChangeTtl: 1_800,
    signInCodeTtl: 600,
  })
  t.ok(Object.isFrozen(config))
  t.match(loadConfig({ EMAIL_CHANGE_TTL: '1h', SIGN_IN_CODE_TTL: '5m' }), {
    emailChangeTtl: 3_600,
    signInCodeTtl: 300,
  })
})

t.test('every bad variable is named, once, in one list', async (t) => {
  const env = {
    PORT: '70000',
    HOST: 'bad host!',
    DATABASE_URL: 'mysql://root:hunter2@db/x',
    ACCESS_TOKEN_TTL: '15 minutes',
    CLOCK_LEEWAY: '1m',
    ALLOWED_ORIGINS: 'https://ok.example,not an origin',
    COOKIE_SECURE: 'yes',
    LOGIN_ACCOUNT_LIMIT: 'five',
    LOGIN_IP_LIMIT: '0/1m',
    TRUST_PROXY: 'maybe',
    LOG_LEVEL: 'loud',
    REVOCATION_SYNC: 'carrier-pigeon',
    EMAIL_CHANGE_TTL: 'soon',
    SIGN_IN_CODE_TTL: '0s',
  }
  const error = (() => {
    try {
      loadConfig(env)
    } catch (e) {
      return e
    }
  })() as ConfigError
  t.ok(error instanceof ConfigError)
  const named = error.problems.map((line) => line.split(':')[0])
  t.same(named.sort(), Object.keys(env).sort(), 'one line per bad variable')
  t.notMatch(error.message, /hunter2/, 'a database password is never echoed')
  t.match(error.message, /ACCESS_TOKEN_TTL: invalid duration "15 minutes": expected/)
  t.match(error.message, /CLOCK_LEEWAY: must be at most 30s/)
})

t.test('consistency between lifetimes is checked', async (t) => {
  t.throws(() => loadConfig({ ACCESS_TOKEN_TTL: '8d' }), {
    name: 'ConfigError',
    problems: ['REFRESH_IDLE_TTL: must be longer than ACCESS_TOKEN_TTL'],
  })
  t.throws(() => loadConfig({ SESSION_MAX_AGE: '1d' }), {
    name: 'ConfigError',
    problems: ['SESSION_MAX_AGE: must be at least REFRESH_IDLE_TTL'],
  })
})

t.test('the process exits 1 with one clear line per bad variable and no stack', async (t) => {
  const run = runEntry('main', { PORT: 'eighty', LOG_LEVEL: 'loud' })
  const code = await run.exited
  t.equal(code, 1)
  const lines = run.output().trim().split('\n')
  t.same(lines, [
    'breakwater: PORT: "eighty" is not a port number (0–65535)',
    'breakwater: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
  ])
})

t.test('a data directory that is a file: one clear line, exit 1', async (t) => {
  const file = path.join(tempDataDir(), 'not-a-directory')
  writeFileSync(file, 'x')
  const run = runEntry('main', { BREAKWATER_DATA_DIR: file, PORT: '0' })
  t.equal(await run.exited, 1)
  t.match(run.output(), /^breakwater: database: .*data directory/m)
  t.notMatch(run.output(), /\n\s+at /, 'no stack trace')
})

t.test('an unreachable PostgreSQL: one clear line, exit 1, no password', async (t) => {
  const run = runEntry('main', {
    DATABASE_URL: 'postgres://app:s3cret-pw@127.0.0.1:9/breakwater',
    BREAKWATER_SECRET: Buffer.alloc(32, 3).toString('base64url'),
    PORT: '0',
  })
  t.equal(await run.exited, 1)
  t.match(run.output(), /^breakwater: database: /m)
  t.notMatch(run.output(), /s3cret-pw/)
  t.notMatch(run.output(), /\n\s+at /)
})
