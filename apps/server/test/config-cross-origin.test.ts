import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { runEntry } from './process.js'

/** The problems `loadConfig(env)` reports, or `[]` when it accepts `env`. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env)
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

t.test('defaults: Lax cookies without Domain, tables in the breakwater schema', async (t) => {
  const config = loadConfig({})
  t.equal(config.cookieSameSite, 'lax')
  t.equal(config.cookieDomain, undefined)
  t.equal(config.databaseSchema, 'breakwater')
})

t.test('good values are read as given', async (t) => {
  for (const value of ['lax', 'strict', 'none'] as const) {
    t.equal(loadConfig({ COOKIE_SAMESITE: value }).cookieSameSite, value, value)
  }
  t.equal(loadConfig({ COOKIE_SAMESITE: ' None ' }).cookieSameSite, 'none', 'trimmed, any case')
  t.equal(
    loadConfig({ COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true' }).cookieSameSite,
    'none',
    'none with Secure forced on',
  )
  t.equal(loadConfig({ COOKIE_DOMAIN: 'example.com' }).cookieDomain, 'example.com')
  t.equal(
    loadConfig({ COOKIE_DOMAIN: '.Example.COM' }).cookieDomain,
    'example.com',
    'a leading dot and capitals are dropped, as browsers do',
  )
  t.equal(loadConfig({ DATABASE_SCHEMA: 'auth' }).databaseSchema, 'auth')
  t.equal(loadConfig({ DATABASE_SCHEMA: '_bw_2' }).databaseSchema, '_bw_2')
  t.equal(loadConfig({ DATABASE_SCHEMA: 'a'.repeat(63) }).databaseSchema, 'a'.repeat(63))
  t.same(
    loadConfig({
      ALLOWED_ORIGINS: 'http://127.0.0.1:5173, https://App.Example.com/',
    }).allowedOrigins,
    ['http://127.0.0.1:5173', 'https://app.example.com'],
    'origins normalised as the Origin header spells them',
  )
})

t.test('one clear line per bad value', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [
      { COOKIE_SAMESITE: 'sometimes' },
      'COOKIE_SAMESITE: must be lax, strict or none, got "sometimes"',
    ],
    [{ COOKIE_SAMESITE: 'true' }, 'COOKIE_SAMESITE: must be lax, strict or none, got "true"'],
    [
      { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' },
      'COOKIE_SAMESITE: none needs Secure cookies: leave COOKIE_SECURE on auto or true',
    ],
    [
      { COOKIE_DOMAIN: 'https://app.example.com' },
      'COOKIE_DOMAIN: must be a host name such as example.com, got "https://app.example.com"',
    ],
    [
      { COOKIE_DOMAIN: 'example.com:8443' },
      'COOKIE_DOMAIN: must be a host name such as example.com, got "example.com:8443"',
    ],
    [
      { DATABASE_SCHEMA: 'Auth' },
      'DATABASE_SCHEMA: "Auth" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)',
    ],
    [
      { DATABASE_SCHEMA: 'my-schema' },
      'DATABASE_SCHEMA: "my-schema" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)',
    ],
    [
      { DATABASE_SCHEMA: '1st' },
      'DATABASE_SCHEMA: "1st" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)',
    ],
    [
      { DATABASE_SCHEMA: 'a'.repeat(64) },
      `DATABASE_SCHEMA: "${'a'.repeat(64)}" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)`,
    ],
    [
      { DATABASE_SCHEMA: 'auth; drop table users' },
      'DATABASE_SCHEMA: "auth; drop table users" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)',
    ],
    [
      { DATABASE_SCHEMA: 'pg_auth' },
      `DATABASE_SCHEMA: "pg_auth" is reserved for PostgreSQL's own catalogues`,
    ],
    [
      { DATABASE_SCHEMA: 'information_schema' },
      `DATABASE_SCHEMA: "information_schema" is reserved for PostgreSQL's own catalogues`,
    ],
  ]
  for (const [env, line] of cases) t.same(problemsOf(env), [line], JSON.stringify(env))
})

t.test('all three bad at once: three lines, one per variable', async (t) => {
  const problems = problemsOf({
    COOKIE_SAMESITE: 'loose',
    COOKIE_DOMAIN: 'http://x',
    DATABASE_SCHEMA: 'X',
  })
  t.same(problems.map((line) => line.split(':')[0]).sort(), [
    'COOKIE_DOMAIN',
    'COOKIE_SAMESITE',
    'DATABASE_SCHEMA',
  ])
})

t.test('the process refuses them before opening anything: exit 1, no stack', async (t) => {
  const run = runEntry('main', {
    PORT: '0',
    COOKIE_SAMESITE: 'sometimes',
    DATABASE_SCHEMA: 'Auth',
  })
  t.equal(await run.exited, 1)
  t.same(run.output().trim().split('\n').sort(), [
    'breakwater: COOKIE_SAMESITE: must be lax, strict or none, got "sometimes"',
    'breakwater: DATABASE_SCHEMA: "Auth" is not a plain lower-case identifier (^[a-z_][a-z0-9_]{0,62}$)',
  ])
})
