// pnpm bench: the cost of authentication on the hot path, measured as ratios
// from one run. The server runs in a child process so the load generator does
// not share its event loop.
import { fork } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 6)
const CONNECTIONS = 20
const ROUNDS = 5
const ROUND_S = 3

/** The run with the median throughput. */
function median(runs: autocannon.Result[]): autocannon.Result {
  return [...runs].sort((a, b) => a.requests.average - b.requests.average)[
    Math.floor(runs.length / 2)
  ]!
}

interface Target {
  url: string
  accessToken: string
  refreshTokens: string[]
  email: string
  password: string
}

async function serve() {
  const { openTestDatabase } = await import('@breakwater/db/testing')
  const Fastify = (await import('fastify')).default
  const {
    breakwater,
    breakwaterRouter,
    mergeRouters,
    protectedProcedure,
    publicProcedure,
    router,
    sessionGuard,
  } = await import('../src/index.js')
  const database = await openTestDatabase(
    process.env.BENCH_DIALECT === 'pglite' ? 'pglite' : 'postgres',
  )
  const whoami = router({
    bench: router({
      authed: protectedProcedure.query(({ ctx }) => ({ user: ctx.session.userId })),
      open: publicProcedure.query(() => ({ user: 'anonymous' })),
    }),
  })
  const app = Fastify({ logger: false })
  await app.register(breakwater, {
    database,
    router: mergeRouters(breakwaterRouter, whoami),
    loginIpLimit: '100000/1m',
    loginAccountLimit: '100000/1m',
    // Sessions refresh in a tight loop below: measure rotation, not the limit.
    refreshLimit: '999999/1m',
    // The enumeration rounds below compare the paths of a known and an unknown
    // address: the per-address mail limit must not turn the known one into the other.
    mailLimit: '999999/1m',
    mail: { outboxDir: mkdtempSync(path.join(tmpdir(), 'breakwater-bench-outbox-')) },
    secret: Buffer.alloc(32, 9).toString('base64url'),
  })
  app.get('/bare', async () => ({ user: 'anonymous' }))
  app.get('/guarded', { preHandler: sessionGuard() }, async (request) => ({
    user: request.breakwaterSession?.userId,
  }))
  app.get('/guarded-user', { preHandler: sessionGuard({ user: true }) }, async (request) => ({
    user: request.breakwaterUser?.email,
  }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const email = 'bench@example.com'
  const password = 'a sturdy bench passphrase'
  const reply = await fetch(`${url}/trpc/auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, transport: 'bearer' }),
  })
  const { result } = (await reply.json()) as {
    result: { data: { tokens: { accessToken: string } } }
  }
  const refreshTokens: string[] = []
  for (let i = 0; i < 20; i++) {
    const login = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, transport: 'bearer' }),
    })
    refreshTokens.push(
      ((await login.json()) as { result: { data: { tokens: { refreshToken: string } } } }).result
        .data.tokens.refreshToken,
    )
  }
  process.send?.({
    url,
    accessToken: result.data.tokens.accessToken,
    refreshTokens,
    email,
    password,
  } satisfies Target)
}

function load(url: string, headers: Record<string, string> = {}, seconds = DURATION_S) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, headers }, (error, result) =>
      error ? reject(error) : resolve(result),
    )
  })
}

/** A JSON mutation under load, in a round of its own (5 connections: mail is not a hot path). */
function post(url: string, body: unknown) {
  return new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url,
        method: 'POST',
        connections: 5,
        duration: ROUND_S,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  )
}

async function rotationsPerSecond(target: Target, seconds: number): Promise<number> {
  let count = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(
    target.refreshTokens.map(async (initial) => {
      let token = initial
      while (performance.now() < end) {
        const reply = await fetch(`${target.url}/trpc/auth.refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken: token }),
        })
        const body = (await reply.json()) as {
          result?: { data: { tokens: { refreshToken: string } } }
        }
        if (!body.result) throw new Error(`refresh failed: ${reply.status}`)
        token = body.result.data.tokens.refreshToken
        count++
      }
    }),
  )
  return count / seconds
}

async function main() {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  })
  const target = await new Promise<Target>((resolve) =>
    child.once('message', (m) => resolve(m as Target)),
  )
  const auth = { authorization: `Bearer ${target.accessToken}` }
  try {
    await load(`${target.url}/trpc/bench.authed`, auth, 2) // warm-up
    // The ratio's two sides in alternating rounds, so drift on a shared machine hits both.
    const opens: autocannon.Result[] = []
    const authedRuns: autocannon.Result[] = []
    const meRuns: autocannon.Result[] = []
    for (let round = 0; round < ROUNDS; round++) {
      opens.push(await load(`${target.url}/trpc/bench.open`, {}, ROUND_S))
      authedRuns.push(await load(`${target.url}/trpc/bench.authed`, auth, ROUND_S))
      meRuns.push(await load(`${target.url}/trpc/auth.me`, auth, ROUND_S))
    }
    const open = median(opens)
    const authed = median(authedRuns)
    const me = median(meRuns)
    // A plain route with sessionGuard() against the same route unguarded, alternating too.
    const bares: autocannon.Result[] = []
    const guardedRuns: autocannon.Result[] = []
    const withUserRuns: autocannon.Result[] = []
    for (let round = 0; round < ROUNDS; round++) {
      bares.push(await load(`${target.url}/bare`, {}, ROUND_S))
      guardedRuns.push(await load(`${target.url}/guarded`, auth, ROUND_S))
      withUserRuns.push(await load(`${target.url}/guarded-user`, auth, ROUND_S))
    }
    const bare = median(bares)
    const guarded = median(guardedRuns)
    const withUser = median(withUserRuns)
    const rotations = await rotationsPerSecond(target, DURATION_S)
    // No enumeration by timing: the same mutation for a known and an unknown address.
    const knownRuns: autocannon.Result[] = []
    const unknownRuns: autocannon.Result[] = []
    for (let round = 0; round < ROUNDS; round++) {
      knownRuns.push(
        await post(`${target.url}/trpc/auth.requestPasswordReset`, { email: target.email }),
      )
      unknownRuns.push(
        await post(`${target.url}/trpc/auth.requestPasswordReset`, { email: 'nobody@example.com' }),
      )
    }
    const known = median(knownRuns)
    const unknown = median(unknownRuns)

    // p99 of the authenticated query while 20 logins hash passwords at once, again and again.
    let hashing = true
    let logins = 0
    const loginStorm = Promise.all(
      Array.from({ length: 20 }, async () => {
        while (hashing) {
          await fetch(`${target.url}/trpc/auth.login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              email: target.email,
              password: target.password,
              transport: 'bearer',
            }),
          })
          logins++
        }
      }),
    )
    const underLogins = await load(`${target.url}/trpc/bench.authed`, auth)
    hashing = false
    await loginStorm

    const rows = [
      ['public tRPC query (no auth)', open],
      ['same query, authenticated (Bearer EdDSA)', authed],
      ['auth.me (user and session, from memory)', me],
      ['bare Fastify route', bare],
      ['the same route behind sessionGuard()', guarded],
      ['… behind sessionGuard({ user: true })', withUser],
      ['authenticated, while 20 logins hash', underLogins],
      ['requestPasswordReset, known address', known],
      ['requestPasswordReset, unknown address', unknown],
    ] as const
    console.log(
      `@breakwater/server bench — ${process.env.BENCH_DIALECT === 'pglite' ? 'PGlite' : 'PostgreSQL'}, ${DURATION_S}s per run, ${CONNECTIONS} connections, one run`,
    )
    console.log('scenario                                      req/s     p50 ms  p99 ms  errors')
    for (const [name, r] of rows) {
      console.log(
        `${name.padEnd(44)} ${r.requests.average.toFixed(0).padStart(7)}  ${String(r.latency.p50).padStart(7)}  ${String(r.latency.p99).padStart(6)}  ${r.errors + r.non2xx}`,
      )
    }
    console.log(
      `authenticated ÷ unauthenticated: ${(authed.requests.average / open.requests.average).toFixed(2)} (goal ≥ 0.95)`,
    )
    console.log(
      `auth.me ÷ authenticated query that reads nothing: ${(me.requests.average / authed.requests.average).toFixed(2)} (goal ≥ 0.9)`,
    )
    console.log(
      `authenticated ÷ bare Fastify:    ${(authed.requests.average / bare.requests.average).toFixed(2)}`,
    )
    console.log(
      `guarded plain route ÷ unguarded: ${(guarded.requests.average / bare.requests.average).toFixed(2)} (goal ≥ 0.5); with the user: ${(withUser.requests.average / bare.requests.average).toFixed(2)}`,
    )
    console.log(
      `requestPasswordReset known ÷ unknown address: p50 ${(known.latency.p50 / Math.max(unknown.latency.p50, 0.001)).toFixed(2)}, req/s ${(known.requests.average / unknown.requests.average).toFixed(2)} (goal: about 1)`,
    )
    console.log(`refresh rotations/s (20 sessions refreshing in a loop): ${rotations.toFixed(0)}`)
    console.log(
      `p99 authenticated while 20 logins hash: ${underLogins.latency.p99} ms (goal < 20 ms); ${logins} logins completed meanwhile`,
    )
  } finally {
    child.kill()
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
