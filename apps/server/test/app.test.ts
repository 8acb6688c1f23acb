import t from 'tap'
import { runEntry, startApp, tempDataDir } from './process.js'

const PASSWORD = 'correct horse battery staple 7'

interface Issued {
  tokens: { accessToken: string; refreshToken: string }
}

async function call(
  url: string,
  name: string,
  input: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${url}/trpc/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-breakwater-csrf': '1', ...headers },
    body: JSON.stringify(input),
  })
  const body = (await response.json()) as {
    result?: { data: Record<string, unknown> }
    error?: { data: { reason?: string } }
  }
  return {
    status: response.status,
    body,
    cookies: response.headers.getSetCookie(),
    data: body.result?.data as unknown as Issued,
  }
}

t.test('the app: health, every secret kept out of the logs, restart keeps sessions', async (t) => {
  const dataDir = tempDataDir()
  // Ten logins to one account at once: above the default account limit, which
  // counts concurrent attempts before they are checked (SPEC §6).
  const app = await startApp({
    BREAKWATER_DATA_DIR: dataDir,
    LOG_LEVEL: 'trace',
    LOGIN_ACCOUNT_LIMIT: '20/15m',
  })
  let stopped = false
  t.teardown(() => {
    if (!stopped) app.child.kill('SIGKILL')
  })
  t.same(await (await fetch(`${app.url}/healthz`)).json(), { ok: true })
  t.same(await (await fetch(`${app.url}/readyz`)).json(), { ok: true })

  const secrets: string[] = [PASSWORD, 'wrong horse battery staple']
  const reg = await call(app.url, 'auth.register', {
    email: 'logs@example.com',
    password: PASSWORD,
    transport: 'bearer',
  })
  t.equal(reg.status, 200)
  const tokens = reg.data.tokens as { accessToken: string; refreshToken: string }
  secrets.push(tokens.accessToken, tokens.refreshToken)
  const refreshed = await call(app.url, 'auth.refresh', { refreshToken: tokens.refreshToken })
  secrets.push(refreshed.data.tokens.accessToken, refreshed.data.tokens.refreshToken)
  await call(app.url, 'auth.login', {
    email: 'logs@example.com',
    password: 'wrong horse battery staple',
  })
  const cookieLogin = await call(app.url, 'auth.login', {
    email: 'logs@example.com',
    password: PASSWORD,
  })
  const cookieValues = cookieLogin.cookies.map((c) => c.split(';')[0]!.split('=')[1]!)
  secrets.push(...cookieValues)
  const cookieHeader = cookieLogin.cookies.map((c) => c.split(';')[0]).join('; ')
  const me = await fetch(`${app.url}/trpc/auth.me`, { headers: { cookie: cookieHeader } })
  t.equal(me.status, 200)
  await fetch(`${app.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${refreshed.data.tokens.accessToken}` },
  })
  await call(
    app.url,
    'auth.changePassword',
    { currentPassword: PASSWORD, newPassword: PASSWORD },
    { authorization: `Bearer ${refreshed.data.tokens.accessToken}` },
  )
  const rotated = await call(app.url, 'auth.refresh', {
    refreshToken: refreshed.data.tokens.refreshToken,
  })
  secrets.push(rotated.data.tokens.refreshToken)

  // SIGTERM with requests in flight: password hashes queue one at a time, so
  // ten logins take a few hundred ms; the signal lands while most wait.
  const received = () =>
    app
      .output()
      .split('\n')
      .filter((l) => l.includes('"incoming request"') && l.includes('/trpc/auth.login')).length
  const before = received()
  let signalledAt = Number.POSITIVE_INFINITY
  const inFlight = Array.from({ length: 10 }, async () => {
    const reply = await call(app.url, 'auth.login', {
      email: 'logs@example.com',
      password: PASSWORD,
      transport: 'bearer',
    })
    return { status: reply.status, afterSignal: performance.now() > signalledAt }
  })
  // Signal only once the server has received all ten (it logs each request as it
  // arrives), so every one of them is in flight, none still connecting.
  for (let i = 0; i < 200 && received() - before < 10; i++)
    await new Promise((resolve) => setTimeout(resolve, 10))
  signalledAt = performance.now()
  app.child.kill('SIGTERM')
  const answers = await Promise.all(inFlight)
  t.same(
    answers.map((a) => a.status),
    Array(10).fill(200),
    'every in-flight request finished',
  )
  t.ok(
    answers.some((a) => a.afterSignal),
    `${answers.filter((a) => a.afterSignal).length} of them answered after SIGTERM`,
  )
  t.equal(await app.exited, 0, 'graceful exit')
  stopped = true

  const logs = app.output()
  t.ok(logs.split('\n').length > 20, 'the server did log')
  for (const secret of secrets) {
    t.notOk(logs.includes(secret), `no secret in the logs (${secret.slice(0, 6)}…)`)
  }
  t.match(logs, /"audit":\{"type":"login.failed"/, 'audit events are logged, without secrets')

  const again = await startApp({ BREAKWATER_DATA_DIR: dataDir })
  t.teardown(() => again.child.kill('SIGKILL'))
  const afterRestart = await call(again.url, 'auth.refresh', {
    refreshToken: rotated.data.tokens.refreshToken,
  })
  t.equal(afterRestart.status, 200, 'a restart keeps sessions')
  const old = await fetch(`${again.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${rotated.data.tokens.accessToken}` },
  })
  t.equal(old.status, 200, 'and signing keys')
})

t.test('keys rotate: the new key signs, tokens of the old one still verify', async (t) => {
  const dataDir = tempDataDir()
  const first = await startApp({ BREAKWATER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  const reg = await call(first.url, 'auth.register', {
    email: 'keys@example.com',
    password: PASSWORD,
    transport: 'bearer',
  })
  const jwksBefore = (await (await fetch(`${first.url}/.well-known/jwks.json`)).json()) as {
    keys: Array<{ kid: string }>
  }
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)

  const rotate = runEntry('keys', { BREAKWATER_DATA_DIR: dataDir }, ['rotate'])
  t.equal(await rotate.exited, 0, rotate.output())
  t.match(rotate.output(), /^signing key \S+ is active; \S+ is published for the next rotation/)

  const second = await startApp({ BREAKWATER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  t.teardown(() => second.child.kill('SIGKILL'))
  const jwks = (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as {
    keys: Array<{ kid: string }>
  }
  t.equal(jwks.keys.length, 3, 'retired, active and next are all published')
  for (const key of jwksBefore.keys)
    t.ok(
      jwks.keys.some((k) => k.kid === key.kid),
      'the old keys stay published',
    )
  const oldToken = await fetch(`${second.url}/trpc/auth.me`, {
    headers: { authorization: `Bearer ${reg.data.tokens.accessToken}` },
  })
  t.equal(oldToken.status, 200, 'a token of the retired key verifies')
  const login = await call(second.url, 'auth.login', {
    email: 'keys@example.com',
    password: PASSWORD,
    transport: 'bearer',
  })
  const kidOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid
  const kid = kidOf(login.data.tokens.accessToken)
  const oldKid = kidOf(reg.data.tokens.accessToken)
  t.not(kid, oldKid, 'new tokens are signed by the promoted key')
  t.ok(
    jwksBefore.keys.some((k) => k.kid === kid),
    'which was published before it signed',
  )

  const usage = runEntry('keys', { BREAKWATER_DATA_DIR: dataDir }, ['spin'])
  t.equal(await usage.exited, 2)
  t.match(usage.output(), /usage: breakwater migrate \[--dry-run\] \| breakwater keys rotate/)
})
