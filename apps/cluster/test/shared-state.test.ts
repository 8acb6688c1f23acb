// Three instances on one PostgreSQL behave as one: a revocation made on any instance is
// honoured by every other within 1 s (SPEC §4), and login limits count across instances
// (SPEC §6). Then, on the same cluster, the faults of faults.ts (an instance killed,
// PostgreSQL stopped, the listeners cut): one cluster started for both.
import t from 'tap'
import {
  type AuthResult,
  call,
  PASSWORD,
  pick,
  probeRevocation,
  quantile,
  refresh,
  register,
  revocationLags,
  startCluster,
  uniqueEmail,
} from '../src/index.js'
import { faultsUnderLoad } from './faults.js'

const REVOCATIONS = 100
const KINDS = ['logout', 'sessions.revoke', 'logoutAll', 'reuse detection'] as const
type Kind = (typeof KINDS)[number]

t.test('three instances on one PostgreSQL', async (t) => {
  const cluster = await startCluster({
    instances: 3,
    // Registrations below all come from 127.0.0.1; the per-IP limit is not under test here.
    env: { LOGIN_IP_LIMIT: '100000/1m' },
  })
  t.teardown(() => cluster.stop())
  const { urls } = cluster

  await t.test('the harness: every instance is up, on loopback, on one database', async (t) => {
    t.equal(urls.length, 3)
    for (const url of urls) {
      t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      t.equal((await fetch(`${url}/readyz`)).status, 200)
    }
    t.equal(new Set(urls).size, 3, 'three ports')
    const { tokens } = await register(urls[0]!)
    for (const url of urls) {
      t.equal(
        (await call(url, 'query', 'auth.me', { token: tokens.accessToken })).status,
        200,
        `a token from instance 0 works on ${url}`,
      )
    }
  })

  await t.test(
    `${REVOCATIONS} revocations on random instances: every other instance refuses the token within 1 s`,
    async (t) => {
      // Sessions first (argon2 makes registration the slow part), four at a time.
      const sessions: AuthResult[] = []
      for (let i = 0; i < REVOCATIONS; i += 4) {
        sessions.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(4, REVOCATIONS - i) }, () => register(pick(urls))),
          )),
        )
      }
      const lags: number[] = []
      const perKind = new Map<Kind, number[]>()
      const slow: string[] = []
      for (let i = 0; i < REVOCATIONS; i++) {
        const kind = KINDS[i % KINDS.length]!
        const session = sessions[i]!
        const access = session.tokens.accessToken
        const on = Math.floor(Math.random() * urls.length)
        const revoker = urls[on]!
        const others = urls.filter((_, index) => index !== on)
        // Reuse detection needs an older token of the chain: rotate twice, then replay the first.
        let replay: string | undefined
        if (kind === 'reuse detection') {
          const first = await refresh(pick(urls), session.tokens.refreshToken)
          const second = await refresh(pick(urls), first.data.tokens.refreshToken)
          if (first.status !== 200 || second.status !== 200)
            t.fail(`reuse setup: refreshes answered ${first.status}, ${second.status}`)
          replay = session.tokens.refreshToken
        }
        for (const url of others) {
          const before = await probeRevocation(url, access)
          if (before !== 'live')
            t.fail(`#${i} ${kind}: token not live on ${url} before (${before})`)
        }
        const since = performance.now()
        const revoked =
          kind === 'logout'
            ? await call(revoker, 'mutation', 'auth.logout', { token: access })
            : kind === 'sessions.revoke'
              ? await call(revoker, 'mutation', 'sessions.revoke', {
                  token: access,
                  input: { sessionId: session.session.id },
                })
              : kind === 'logoutAll'
                ? await call(revoker, 'mutation', 'auth.logoutAll', { token: access })
                : await refresh(revoker, replay!)
        const expected = kind === 'reuse detection' ? 'REFRESH_REUSED' : undefined
        if (revoked.reason !== expected)
          t.fail(`#${i} ${kind} answered ${revoked.status} ${revoked.reason}`)
        // Measured from before the revoking call was sent: an upper bound on the lag.
        const measured = await revocationLags(others, access, since, { timeoutMs: 5000 })
        for (const [j, lag] of measured.entries()) {
          lags.push(lag)
          perKind.set(kind, [...(perKind.get(kind) ?? []), lag])
          if (lag > 1000) slow.push(`#${i} ${kind} on ${revoker} → ${others[j]}: ${lag} ms`)
        }
      }
      t.equal(
        lags.length,
        REVOCATIONS * (urls.length - 1),
        'one lag per revocation per other instance',
      )
      t.same(slow, [], 'every other instance refused the token within 1 s')
      const fmt = (ms: number) => `${ms.toFixed(0)} ms`
      t.comment(
        `revocation lag over ${lags.length} (revocation, other instance) pairs: p50 ${fmt(quantile(lags, 0.5))}, p99 ${fmt(quantile(lags, 0.99))}, max ${fmt(Math.max(...lags))}`,
      )
      for (const [kind, values] of perKind)
        t.comment(
          `  ${kind}: p50 ${fmt(quantile(values, 0.5))}, p99 ${fmt(quantile(values, 0.99))}`,
        )
    },
  )

  await t.test(
    '5 wrong passwords spread over 3 instances: the 6th attempt is 429 on any instance',
    async (t) => {
      for (let last = 0; last < urls.length; last++) {
        const email = uniqueEmail('limited')
        await register(urls[last]!, email)
        for (let attempt = 0; attempt < 5; attempt++) {
          const url = urls[attempt % urls.length]!
          const reply = await call(url, 'mutation', 'auth.login', {
            input: { email, password: 'not the passphrase at all', transport: 'bearer' },
          })
          t.equal(
            reply.reason,
            'INVALID_CREDENTIALS',
            `failure ${attempt + 1} on instance ${attempt % 3}`,
          )
        }
        // The right password: a lock counts failures, so even it is refused now.
        const sixth = await call(urls[last]!, 'mutation', 'auth.login', {
          input: { email, password: PASSWORD, transport: 'bearer' },
        })
        t.equal(sixth.status, 429, `6th attempt on instance ${last}`)
        t.equal(sixth.reason, 'RATE_LIMITED')
        t.match(sixth.headers.get('retry-after'), /^\d+$/, 'Retry-After in whole seconds')
        for (const url of urls) {
          const again = await call(url, 'mutation', 'auth.login', {
            input: { email, password: PASSWORD, transport: 'bearer' },
          })
          t.equal(again.reason, 'RATE_LIMITED', `and on ${url}`)
        }
      }
    },
  )

  // Last: they kill an instance and stop PostgreSQL (and leave the cluster running again).
  await t.test('faults under load', (t) => faultsUnderLoad(t, cluster))
})
