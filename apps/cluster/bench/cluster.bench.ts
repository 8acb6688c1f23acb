// pnpm bench:cluster: one run, one cluster (3 instances of apps/server on one embedded
// PostgreSQL 17), load from autocannon in this process. Prints a Markdown section for
// docs/benchmarks.md. BENCH_SECONDS (default 10) sets each autocannon run's length.
//
// On a 2-core machine the instances, PostgreSQL and autocannon share two cores, so three
// instances cannot serve three times what one does; the figures say how much they do.
import os from 'node:os'
import autocannon from 'autocannon'
import {
  call,
  login,
  pick,
  quantile,
  register,
  revocationLags,
  startCluster,
  uniqueEmail,
} from '../src/index.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = 30 // a multiple of 3: autocannon spreads connections over the URLs
const REFRESH_SESSIONS = 2 * CONNECTIONS
const REVOCATIONS = 50
const ROUNDS = 2

/** autocannon takes several URLs (its README: "More than one URL is allowed"); @types/autocannon 7 lists only a string. */
const targetsOf = (targets: readonly string[]) =>
  (targets.length === 1 ? targets[0]! : [...targets]) as unknown as string

const cluster = await startCluster({
  instances: 3,
  env: { LOGIN_IP_LIMIT: '100000/1m', LOG_LEVEL: 'warn' },
})
const { urls } = cluster
const loadBefore = os.loadavg()[0]!

try {
  const live = await register(urls[0]!)
  const revoked = await register(urls[0]!)
  await call(urls[0]!, 'mutation', 'auth.logout', { token: revoked.tokens.accessToken })

  async function run(
    title: string,
    targets: readonly string[],
    path: string,
    token: string,
  ): Promise<autocannon.Result> {
    const result = await autocannon({
      url: targetsOf(targets),
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: { authorization: `Bearer ${token}` },
      requests: [{ method: 'GET', path }],
    })
    process.stderr.write(
      `${title}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, 2xx ${result['2xx']}, non-2xx ${result.non2xx}, errors ${result.errors}\n`,
    )
    return result
  }

  // Warm every instance's JIT before measuring.
  await autocannon({
    url: targetsOf(urls),
    connections: CONNECTIONS,
    duration: 3,
    headers: { authorization: `Bearer ${live.tokens.accessToken}` },
    requests: [{ method: 'GET', path: '/trpc/auth.me' }],
  })

  // 1 instance vs 3, in alternating rounds so that noise from the shared machine falls
  // on both sides alike; each figure is the mean of its rounds.
  const sides = {
    me1: [] as autocannon.Result[],
    me3: [] as autocannon.Result[],
    rev1: [] as autocannon.Result[],
    rev3: [] as autocannon.Result[],
  }
  for (let round = 1; round <= ROUNDS; round++) {
    sides.me1.push(
      await run(
        `auth.me, 1 instance, round ${round}`,
        urls.slice(0, 1),
        '/trpc/auth.me',
        live.tokens.accessToken,
      ),
    )
    sides.me3.push(
      await run(
        `auth.me, 3 instances, round ${round}`,
        urls,
        '/trpc/auth.me',
        live.tokens.accessToken,
      ),
    )
    // The DB-free path: a token whose session is in the revocation set is refused before
    // any query (signature check, then the in-memory set).
    sides.rev1.push(
      await run(
        `revoked token (401), 1 instance, round ${round}`,
        urls.slice(0, 1),
        '/trpc/auth.me',
        revoked.tokens.accessToken,
      ),
    )
    sides.rev3.push(
      await run(
        `revoked token (401), 3 instances, round ${round}`,
        urls,
        '/trpc/auth.me',
        revoked.tokens.accessToken,
      ),
    )
  }

  // Revocation lag while all three instances are saturated with auth.me (the victims
  // signed in beforehand, so no password hashing competes with the load).
  const victims = await Promise.all(
    Array.from({ length: 10 }, (_, i) => register(urls[i % urls.length]!)),
  )
  const underLoad: number[] = []
  const loaded = run(
    'auth.me, 3 instances, with revocations',
    urls,
    '/trpc/auth.me',
    live.tokens.accessToken,
  )
  await new Promise((resolve) => setTimeout(resolve, 1000))
  for (const [i, victim] of victims.entries()) {
    const on = i % urls.length
    const since = performance.now()
    await call(urls[on]!, 'mutation', 'auth.logout', { token: victim.tokens.accessToken })
    underLoad.push(
      ...(await revocationLags(
        urls.filter((_, j) => j !== on),
        victim.tokens.accessToken,
        since,
      )),
    )
  }
  await loaded

  // Refresh rotations. autocannon clears a connection's context before each request,
  // so live refresh tokens wait in a pool: a request takes one, its answer puts the
  // successor back (or the same token, if the call failed without rotating). Twice as
  // many chains as connections, so a connection never finds the pool empty.
  const email = uniqueEmail('bench')
  await register(urls[0]!, email)
  const pool: string[] = []
  for (let i = 0; i < REFRESH_SESSIONS; i += 5) {
    const made = await Promise.all(Array.from({ length: 5 }, () => login(pick(urls), email)))
    pool.push(...made.map((session) => session.tokens.refreshToken))
  }
  const refreshStatus: Record<string, number> = {}
  const refreshes = await autocannon({
    url: targetsOf(urls),
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/trpc/auth.refresh',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request, context) => {
          const state = context as { token?: string | undefined }
          state.token = pool.shift()
          return { ...request, body: JSON.stringify({ refreshToken: state.token }) }
        },
        onResponse: (status, body, context) => {
          const state = context as { token?: string | undefined }
          refreshStatus[status] = (refreshStatus[status] ?? 0) + 1
          if (status === 200) {
            const parsed = JSON.parse(body) as {
              result: { data: { tokens: { refreshToken: string } } }
            }
            pool.push(parsed.result.data.tokens.refreshToken)
          } else if (status >= 500 && state.token) pool.push(state.token)
        },
      },
    ],
  })
  process.stderr.write(
    `refresh: ${refreshes.requests.average.toFixed(0)} rotations/s, p99 ${refreshes.latency.p99} ms, non-2xx ${refreshes.non2xx}\n`,
  )

  // Revocation propagation on the otherwise idle cluster.
  const idle: number[] = []
  for (let i = 0; i < REVOCATIONS; i++) {
    const on = i % urls.length
    const victim = await register(pick(urls))
    const since = performance.now()
    await call(urls[on]!, 'mutation', 'auth.logout', { token: victim.tokens.accessToken })
    idle.push(
      ...(await revocationLags(
        urls.filter((_, j) => j !== on),
        victim.tokens.accessToken,
        since,
      )),
    )
  }

  const mean = (results: autocannon.Result[], pick: (r: autocannon.Result) => number) =>
    results.reduce((sum, r) => sum + pick(r), 0) / results.length
  const rps = (results: autocannon.Result[]) => mean(results, (r) => r.requests.average).toFixed(0)
  const p99 = (results: autocannon.Result[]) => mean(results, (r) => r.latency.p99).toFixed(0)
  const ratio = (three: autocannon.Result[], one: autocannon.Result[]) =>
    (mean(three, (r) => r.requests.average) / mean(one, (r) => r.requests.average)).toFixed(2)
  const sum = (results: autocannon.Result[], pick: (r: autocannon.Result) => number) =>
    results.reduce((total, r) => total + pick(r), 0)
  const ms = (values: number[], q: number) => `${quantile(values, q).toFixed(0)} ms`
  const lines = [
    '## Cluster',
    '',
    `\`pnpm bench:cluster\` (apps/cluster/bench/cluster.bench.ts): 3 instances of apps/server (\`node apps/server/dist/main.js\`, LOG_LEVEL=warn) on one embedded PostgreSQL 17, autocannon in the same process, ${CONNECTIONS} connections, ${SECONDS} s per run, on ${os.cpus().length} cores (load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at the end; shared machine). ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
    '',
    `| what (mean of ${ROUNDS} alternating rounds) | 1 instance | 3 instances | 3 ÷ 1 |`,
    '|---|---|---|---|',
    `| \`auth.me\` with a valid access token (200; two primary-key reads) | ${rps(sides.me1)} req/s (p99 ${p99(sides.me1)} ms) | ${rps(sides.me3)} req/s (p99 ${p99(sides.me3)} ms) | ${ratio(sides.me3, sides.me1)} |`,
    `| \`auth.me\` with a revoked session's token (401 \`SESSION_REVOKED\`, no query) | ${rps(sides.rev1)} req/s (p99 ${p99(sides.rev1)} ms) | ${rps(sides.rev3)} req/s (p99 ${p99(sides.rev3)} ms) | ${ratio(sides.rev3, sides.rev1)} |`,
    '',
    `- Refresh rotations across the cluster (${REFRESH_SESSIONS} sessions rotating their own chains, ${CONNECTIONS} connections spread over 3 instances): **${rps([refreshes])} rotations/s** (p99 ${refreshes.latency.p99} ms, statuses ${JSON.stringify(refreshStatus)}).`,
    `- Revocation propagation (logout on one instance until each other instance refuses the token, measured from before the logout request was sent; ${idle.length} pairs): **p50 ${ms(idle, 0.5)}, p99 ${ms(idle, 0.99)}** on the idle cluster; ${underLoad.length} pairs while all three instances were saturated with \`auth.me\`: p50 ${ms(underLoad, 0.5)}, p99 ${ms(underLoad, 0.99)}.`,
    `- Non-2xx / errors: auth.me ${sum([...sides.me1, ...sides.me3], (r) => r.non2xx)} / ${sum([...sides.me1, ...sides.me3], (r) => r.errors)}; revoked-token runs answered 401 only (${sum([...sides.rev1, ...sides.rev3], (r) => r['2xx'])} 2xx).`,
  ]
  process.stdout.write(`\n${lines.join('\n')}\n`)
} finally {
  await cluster.stop()
}
