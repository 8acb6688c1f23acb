// Regression tests for the findings of the outside security review (each one
// failed on the code before it was fixed). Numbers follow the review's list.
import { listAuditEvents } from '@breakwater/db'
import { forEachDialect, openTestDatabase } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  manualClock,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

const decodeJwt = (token: string): { iat?: number; exp?: number } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))

// One embedded database for the single-engine tests (each uses its own accounts):
// opening and migrating one costs more than most of these tests.
const database = await openTestDatabase('pglite')
t.teardown(() => database.close())

/** A server on `db` (the shared one by default) that only the tests below rate-limit. */
const serve = (
  options: Parameters<typeof startServer>[1] = {},
  configure?: Parameters<typeof startServer>[2],
  fastifyOptions?: Parameters<typeof startServer>[3],
  db = database,
) => startServer(db, { loginIpLimit: '100000/1m', ...options }, configure, fastifyOptions)

const count = <T>(items: readonly T[], predicate: (item: T) => boolean) =>
  items.filter(predicate).length

t.test('2. concurrent guesses cannot pass the lockout', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const server = await serve({}, undefined, undefined, database)
    t.teardown(server.close)

    await t.test('40 concurrent wrong passwords: at most 5 are checked', async (t) => {
      const email = uniqueEmail('burst')
      await new Client(server.url).mutation('auth.register', { email, password: PASSWORD })
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          new Client(server.url).mutation('auth.login', { email, password: `wrong guess ${i}` }),
        ),
      )
      t.equal(
        count(replies, (r) => r.reason === 'INVALID_CREDENTIALS'),
        5,
        'five were checked',
      )
      t.equal(
        count(replies, (r) => r.reason === 'RATE_LIMITED'),
        35,
        'the rest were refused',
      )
    })

    await t.test('19 wrong and 1 right in one burst: at most 5 checks in all', async (t) => {
      const email = uniqueEmail('burst')
      await new Client(server.url).mutation('auth.register', { email, password: PASSWORD })
      const replies = await Promise.all([
        ...Array.from({ length: 19 }, (_, i) =>
          new Client(server.url).mutation('auth.login', { email, password: `wrong guess ${i}` }),
        ),
        new Client(server.url).mutation('auth.login', { email, password: PASSWORD }),
      ])
      const checked = count(replies, (r) => r.reason !== 'RATE_LIMITED')
      t.ok(checked <= 5, `${checked} of 20 were checked`)
      t.ok(checked >= 1)
    })

    await t.test('60 concurrent changePassword guesses from one session: at most 5', async (t) => {
      const { client } = await registerBearer(server.url, uniqueEmail('change'))
      const replies = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          client.mutation('auth.changePassword', {
            currentPassword: `wrong guess ${i}`,
            newPassword: 'another sturdy passphrase',
          }),
        ),
      )
      t.equal(
        count(replies, (r) => r.reason === 'INVALID_CREDENTIALS'),
        5,
      )
      t.equal(
        count(replies, (r) => r.reason === 'RATE_LIMITED'),
        55,
      )
      const retryAfter = replies
        .find((r) => r.reason === 'RATE_LIMITED')
        ?.headers.get('retry-after')
      t.ok(Number(retryAfter) >= 1, 'with Retry-After')
    })
  }),
)

t.test('2. the hashing queue is bounded: past it, RATE_LIMITED with Retry-After', async (t) => {
  const server = await serve({
    loginIpLimit: '1000/1m',
    maxConcurrentHashes: 1,
    maxQueuedHashes: 2,
  })
  t.teardown(server.close)
  const replies = await Promise.all(
    Array.from({ length: 12 }, () =>
      new Client(server.url).mutation('auth.register', {
        email: uniqueEmail('queue'),
        password: PASSWORD,
      }),
    ),
  )
  const limited = replies.filter((r) => r.reason === 'RATE_LIMITED')
  t.ok(count(replies, (r) => r.status === 200) >= 3, 'the bound is served')
  t.ok(limited.length >= 1, `${limited.length} refused instead of queueing`)
  t.ok(
    limited.every((r) => Number(r.headers.get('retry-after')) >= 1),
    'each with Retry-After',
  )
  t.equal(
    count(replies, (r) => r.status >= 500),
    0,
  )
})

t.test('3. cookie tossing: in secure mode unprefixed cookies are ignored', async (t) => {
  const server = await serve({ cookieSecure: true })
  t.teardown(server.close)
  const { tokens } = await registerBearer(server.url)
  const planted = await new Client(server.url).query('auth.me', undefined, {
    cookie: `bw_access=${tokens.accessToken}`,
  })
  t.equal(planted.reason, 'TOKEN_MISSING', 'a planted bw_access is not read')
  const prefixed = await new Client(server.url).query('auth.me', undefined, {
    cookie: `__Host-bw_access=${tokens.accessToken}`,
  })
  t.equal(prefixed.status, 200, 'the __Host- cookie is')
  const plantedRefresh = await new Client(server.url).mutation('auth.refresh', undefined, {
    cookie: `bw_refresh=${tokens.refreshToken}`,
  })
  t.equal(plantedRefresh.reason, 'REFRESH_MISSING', 'a planted bw_refresh is not read')
})

t.test('5. a login racing changePassword never leaves an old-password session', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const server = await serve({}, undefined, undefined, database)
    t.teardown(server.close)
    let survivors = 0
    let oldPasswordLogins = 0
    for (let trial = 0; trial < 6; trial++) {
      const email = uniqueEmail('race')
      const owner = await registerBearer(server.url, email)
      const newPassword = `a brand new passphrase ${trial}`
      const logins = Array.from({ length: 3 }, () =>
        new Client(server.url).mutation<AuthResult>('auth.login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        }),
      )
      const change = owner.client.mutation('auth.changePassword', {
        currentPassword: PASSWORD,
        newPassword,
      })
      const [changed, ...results] = await Promise.all([change, ...logins])
      t.equal(changed!.status, 200, `trial ${trial}: password changed`)
      for (const login of results) {
        if (login.status !== 200) continue
        oldPasswordLogins++
        const refreshed = await new Client(server.url).mutation('auth.refresh', {
          refreshToken: login.data.tokens!.refreshToken,
        })
        if (refreshed.status === 200) survivors++
      }
    }
    t.equal(survivors, 0, `none of ${oldPasswordLogins} old-password sessions can refresh`)
  }),
)

t.test('6. one canonical email: one account, one rate-limit bucket', async (t) => {
  const server = await serve({ loginIpLimit: '1000/1m' })
  t.teardown(server.close)
  const client = new Client(server.url)
  const first = await client.mutation<AuthResult>('auth.register', {
    email: 'ada.lovelace@example.com',
    password: PASSWORD,
  })
  t.equal(first.data.user.email, 'ada.lovelace@example.com')
  const fullwidth = await client.mutation('auth.register', {
    email: 'ａｄａ.ｌｏｖｅｌａｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ',
    password: PASSWORD,
  })
  t.equal(fullwidth.reason, 'EMAIL_TAKEN', 'a fullwidth spelling is the same account')
  const upper = await client.mutation<AuthResult>('auth.login', {
    email: '  ADA.LOVELACE@EXAMPLE.COM ',
    password: PASSWORD,
  })
  t.equal(upper.data.user.id, first.data.user.id, 'any case signs into the same account')

  await client.mutation('auth.register', { email: 'tim@example.com', password: PASSWORD })
  const spellings = ['tİm@example.com', 'TIM@example.com', 'ｔｉｍ@example.com']
  let checked = 0
  for (let i = 0; i < 9; i++) {
    const reply = await client.mutation('auth.login', {
      email: spellings[i % spellings.length],
      password: `wrong guess ${i}`,
    })
    if (reply.reason === 'INVALID_CREDENTIALS') checked++
  }
  t.equal(checked, 5, 'five guesses over every spelling together, not five per spelling')
})

t.test('7. no input yields a 5xx: NUL bytes and other hostile values', async (t) => {
  const server = await serve({ loginIpLimit: '1000/1m' })
  t.teardown(server.close)
  const client = new Client(server.url)
  const nul = await client.mutation('auth.login', { email: 'a\u0000@example.com', password: 'x' })
  t.equal(nul.status, 400, 'a NUL in the email is a 400')
  const nulName = await client.mutation('auth.register', {
    email: uniqueEmail(),
    password: PASSWORD,
    displayName: 'Ada\u0000',
  })
  t.equal(nulName.status, 400, 'a NUL in the display name is a 400')
})

t.test('8. no access token outlives its session', async (t) => {
  const clock = manualClock()
  const server = await serve({
    clock: clock.read,
    accessTokenTtl: '10m',
    refreshIdleTtl: '11m',
    sessionMaxAge: '12m',
  })
  t.teardown(server.close)
  const { tokens, client } = await registerBearer(server.url)
  const first = decodeJwt(tokens.accessToken)
  t.equal(first.exp! - first.iat!, 600, 'a fresh session gets the full lifetime')
  clock.advance(9 * 60)
  const refreshed = await client.mutation<AuthResult>('auth.refresh', {
    refreshToken: tokens.refreshToken,
  })
  const second = decodeJwt(refreshed.data.tokens!.accessToken)
  const sessionEnd = Math.floor(Date.parse(refreshed.data.session.expiresAt) / 1000)
  t.equal(second.exp, sessionEnd, 'capped at the absolute expiry (3 min away, not 10)')
  t.equal(
    Date.parse(refreshed.data.session.accessTokenExpiresAt),
    sessionEnd * 1000,
    'and says so in the session view',
  )
  clock.advance(3 * 60 + 10)
  client.bearer = refreshed.data.tokens!.accessToken
  const late = await client.query('sessions.list')
  t.equal(late.reason, 'TOKEN_EXPIRED', 'a protected call after the session ended fails')
})

t.test('9. cookie logout needs the CSRF header whatever the body holds', async (t) => {
  const server = await serve()
  t.teardown(server.close)
  const victim = new Client(server.url)
  await victim.mutation('auth.register', { email: uniqueEmail(), password: PASSWORD })
  victim.csrf = false
  const forged = await victim.mutation(
    'auth.logout',
    { refreshToken: 'x'.repeat(43) },
    { origin: 'http://evil.localtest:8080' },
  )
  t.equal(forged.reason, 'CSRF_REJECTED')
  t.equal(forged.setCookies.length, 0, 'nothing cleared')
  victim.csrf = true
  t.equal((await victim.query('auth.me')).status, 200, 'the session lives on')
})

t.test('10. a clock stepped forward and back does not re-admit a revoked token', async (t) => {
  const clock = manualClock()
  const server = await serve({ clock: clock.read, accessTokenTtl: '15m' })
  t.teardown(server.close)
  const { client, tokens } = await registerBearer(server.url)
  await client.mutation('auth.logout')
  client.bearer = tokens.accessToken
  t.equal((await client.query('sessions.list')).reason, 'SESSION_REVOKED')
  clock.advance(2 * 3600)
  server.app.breakwater.revocations.prune()
  clock.advance(-2 * 3600)
  t.equal(
    (await client.query('sessions.list')).reason,
    'SESSION_REVOKED',
    'still revoked after the step back',
  )
})

t.test('12. refresh is rate-limited per session', async (t) => {
  const server = await serve({ refreshLimit: '3/1m' })
  t.teardown(server.close)
  const { tokens } = await registerBearer(server.url)
  let refreshToken = tokens.refreshToken
  const statuses: (string | number)[] = []
  for (let i = 0; i < 4; i++) {
    const reply = await new Client(server.url).mutation<AuthResult>('auth.refresh', {
      refreshToken,
    })
    statuses.push(reply.reason ?? reply.status)
    if (reply.status === 200) refreshToken = reply.data.tokens!.refreshToken
  }
  t.same(statuses, [200, 200, 200, 'RATE_LIMITED'])
})

t.test('login CSRF: no Origin and a foreign Referer is refused', async (t) => {
  const server = await serve()
  t.teardown(server.close)
  const email = uniqueEmail()
  await new Client(server.url).mutation('auth.register', {
    email,
    password: PASSWORD,
    transport: 'bearer',
  })
  const victim = new Client(server.url)
  victim.csrf = false
  const foreign = await victim.mutation(
    'auth.login',
    { email, password: PASSWORD },
    { referer: 'http://evil.localtest:8080/form.html' },
  )
  t.equal(foreign.reason, 'CSRF_REJECTED')
  t.equal(victim.jar.size, 0)
  const own = await victim.mutation(
    'auth.login',
    { email, password: PASSWORD },
    { referer: `${server.url}/sign-in` },
  )
  t.equal(own.status, 200, 'our own page as Referer passes')
})

t.test('per-IP limits count IPv6 per /64', async (t) => {
  const server = await serve({ loginIpLimit: '3/1m' }, undefined, {
    trustProxy: true,
  })
  t.teardown(server.close)
  const from = (ip: string) =>
    new Client(server.url).mutation(
      'auth.login',
      { email: uniqueEmail(), password: 'wrong guess' },
      { 'x-forwarded-for': ip },
    )
  const replies = [
    await from('2001:db8:1:2::1'),
    await from('2001:db8:1:2:aaaa::2'),
    await from('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'),
    await from('2001:db8:1:2::4'),
    await from('2001:db8:1:3::1'),
  ]
  t.same(
    replies.map((r) => r.reason),
    [
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'RATE_LIMITED',
      'INVALID_CREDENTIALS',
    ],
    'one /64 is one bucket; the next /64 is another',
  )
})

t.test('a grace-window replay from another client is marked in the audit trail', async (t) => {
  const server = await serve()
  t.teardown(server.close)
  const { tokens, result } = await registerBearer(server.url)
  const agent = (ua: string) => ({ 'user-agent': ua })
  const home = new Client(server.url)
  home.extraHeaders = agent('node')
  const rotated = await home.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
  t.equal(rotated.status, 200)
  const elsewhere = new Client(server.url)
  elsewhere.extraHeaders = agent('curl/8.0')
  const replay = await elsewhere.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
  t.equal(replay.status, 200, 'inside the window the replay still succeeds')
  const events = await listAuditEvents(database.db, { sessionId: result.session.id })
  const grace = events.filter((e) => e.type === 'refresh.grace')
  t.equal(grace.length, 1)
  t.same(grace[0]!.details, { foreignClient: true })
})

t.test('the body limit holds inside an app whose Fastify allows more', async (t) => {
  const server = await serve({}, (app) => {
    app.post('/own', async (request) => ({ size: JSON.stringify(request.body).length }))
  })
  t.teardown(server.close)
  const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(100_000) })
  const login = await new Client(server.url).request('POST', '/trpc/auth.login', {
    body: big,
    headers: { 'content-type': 'application/json' },
  })
  t.equal(login.status, 413, 'a 100 KB body is refused by the plugin')
  const own = await fetch(`${server.url}/own`, {
    method: 'POST',
    body: big,
    headers: { 'content-type': 'application/json' },
  })
  t.equal(own.status, 200, "the app's own route keeps the app's limit")
})

t.test('the cookie change: an expired access cookie still signs out for real', async (t) => {
  const clock = manualClock()
  const server = await serve({ clock: clock.read, accessTokenTtl: '1m' })
  t.teardown(server.close)
  const client = new Client(server.url)
  const reg = await client.mutation<AuthResult>('auth.register', {
    email: uniqueEmail(),
    password: PASSWORD,
  })
  const maxAges = reg.setCookies.map((line) => /max-age=(\d+)/i.exec(line)?.[1])
  t.equal(maxAges[0], maxAges[1], 'the access cookie lives as long as the refresh cookie')
  clock.advance(120)
  t.equal((await client.query('auth.me')).reason, 'TOKEN_EXPIRED', 'expired, not missing')
  const refreshCookie = client.jar.get('bw_refresh')!.value
  t.equal((await client.mutation('auth.logout')).status, 200)
  const after = await new Client(server.url).mutation('auth.refresh', {
    refreshToken: decodeURIComponent(refreshCookie),
  })
  t.equal(after.reason, 'SESSION_REVOKED', 'the session really ended')
  t.equal(
    (await new Client(server.url).query('auth.me')).reason,
    'TOKEN_MISSING',
    'no cookie at all means no session',
  )
})
