// A bounded soak: sessions refreshing and a steady stream of revocations leave each
// instance's heap within 20 % of where it stood after warm-up.
//
// Tokens live 5 s with no leeway, so an instance's revocation set (which keeps an entry
// for access TTL + leeway + the 30 s key-reload interval = 35 s) starts forgetting 35 s
// into the soak. The default run (45 s, 15 s of warm-up) keeps `pnpm test` short and sees
// the set begin to forget; `pnpm --filter @breakwater/cluster soak` runs 2 minutes with
// 40 s of warm-up, so the baseline is taken with the set already at its steady size.
//
// CLUSTER_SOAK_SECONDS, CLUSTER_SOAK_WARMUP_SECONDS, CLUSTER_SOAK_SESSIONS and
// CLUSTER_SOAK_REVOCATIONS (per second) tune it, also through `pnpm test` (turbo.json
// passes CLUSTER_* to the test task).
import { createDatabase, createSession, DatabaseUnavailable } from '@breakwater/db'
import { hashRefreshToken, mintRefreshToken } from '@breakwater/tokens'
import t from 'tap'
import {
  type AuthResult,
  call,
  claimsOf,
  expiredInFlight,
  isShed,
  login,
  MAX_RETRIED,
  pick,
  refresh,
  register,
  served,
  signIn,
  sleep,
  startCluster,
} from '../src/index.js'

const number = (name: string, fallback: number) => {
  const raw = process.env[name]
  const value = raw ? Number(raw) : fallback
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`${name} must be a positive number`)
  return value
}
const SOAK_S = number('CLUSTER_SOAK_SECONDS', 45)
const WARMUP_S = number('CLUSTER_SOAK_WARMUP_SECONDS', Math.min(40, Math.round(SOAK_S / 3)))
const SESSIONS = number('CLUSTER_SOAK_SESSIONS', 200)
const REVOCATIONS_PER_S = number('CLUSTER_SOAK_REVOCATIONS', 50)
const USERS = 20
const REAL_LOGIN_EVERY = 10
const MAX_GROWTH = 0.2

// The file's budget grows with the soak (setup and teardown take one to two minutes,
// more on a slow day: the budget guards against a hang, it does not time anything).
t.setTimeout((SOAK_S + 600) * 1000)

t.test(
  `soak: ${SESSIONS} sessions refreshing, ${REVOCATIONS_PER_S} revocations/s, ${SOAK_S} s`,
  async (t) => {
    t.setTimeout((SOAK_S + 600) * 1000)
    const cluster = await startCluster({
      instances: 3,
      env: {
        ACCESS_TOKEN_TTL: '5s',
        CLOCK_LEEWAY: '0s',
        LOGIN_IP_LIMIT: '100000/1m',
      },
    })
    t.teardown(() => cluster.stop())
    const { urls, instances } = cluster

    // This process's own connections (not under test): one per revocation in flight (see
    // below), so none waits for the pool, and a connect timeout a loaded machine does not
    // reach (the default 2.5 s made "revocation: database unavailable" harness failures).
    const database = await createDatabase(cluster.databaseUrl, {
      revocationSync: 'off',
      pool: { max: 16, connectionTimeoutMillis: 10_000 },
    })
    t.teardown(() => database.close())
    let harnessRetries = 0
    /**
     * A session inserted as the server's login inserts it; returns its refresh token. This
     * is the harness's own write, not the servers': on cores the other suites keep busy its
     * connection can miss the deadline, so it tries again (3 attempts) instead of failing
     * the soak over a step that is not under test.
     */
    const insertSession = async (userId: string): Promise<string> => {
      for (let attempt = 1; ; attempt++) {
        const refreshToken = mintRefreshToken()
        try {
          await createSession(database.db, {
            userId,
            refreshTokenHash: hashRefreshToken(refreshToken),
            idleTtlSeconds: 3600,
            maxAgeSeconds: 7200,
          })
          return refreshToken
        } catch (error) {
          if (!(error instanceof DatabaseUnavailable) || attempt === 3) throw error
          harnessRetries++
          await sleep(200 * attempt)
        }
      }
    }
    /** An inserted session, its tokens from an API refresh. */
    const insertedSession = async (userId: string): Promise<AuthResult> => {
      const refreshToken = await insertSession(userId)
      return served('refresh', () => refresh(pick(urls), refreshToken))
    }

    const users: { id: string; email: string }[] = []
    for (let i = 0; i < USERS; i += 4) {
      const made = await Promise.all(Array.from({ length: 4 }, () => register(pick(urls))))
      users.push(...made.map((result) => result.user!))
    }
    // The sessions, as the revocations below: one in REAL_LOGIN_EVERY signs in through the
    // API (an argon2 hash each), the others are inserted and refreshed once.
    const sessions: AuthResult[] = []
    while (sessions.length < SESSIONS) {
      const batch = Math.min(8, SESSIONS - sessions.length)
      const from = sessions.length
      sessions.push(
        ...(await Promise.all(
          Array.from({ length: batch }, (_, k) =>
            (from + k) % REAL_LOGIN_EVERY === 0
              ? login(pick(urls), pick(users).email)
              : insertedSession(pick(users).id),
          ),
        )),
      )
    }
    const initial = await Promise.all(instances.map((instance) => instance.heapUsed()))

    let running = true
    const counts = {
      refreshes: 0,
      calls: 0,
      revocations: 0,
      logins: 0,
      skipped: 0,
      expiredInFlight: 0,
      shed: 0,
      unanswered: 0,
    }
    const failures: string[] = []
    const fail = (what: string) => {
      if (failures.length < 50) failures.push(what)
    }

    // Each session makes a call about once a second, refreshing when its 5 s token is
    // within 1.5 s of expiry: ≈ 200 calls/s, ≈ 55 of them rotations.
    //
    // Two answers are what a client must expect from a loaded server, and this one acts on
    // them as `@breakwater/client` does (the soak shares two cores with other suites in
    // `pnpm test`): a token that expired on its way (`expiredInFlight`) refreshes at once;
    // DB_UNAVAILABLE (a pool that shed load) tries again on the next tick, with the same
    // refresh token, which "nothing was lost" promises is still good. Both are counted and
    // bounded below; any other answer is a failure.
    const sessionLoad = Promise.all(
      sessions.map(async (start, i) => {
        let session = start
        let mustRefresh = false
        await sleep((i * 1000) / SESSIONS)
        while (running) {
          try {
            const expiresAt = claimsOf(session.tokens.accessToken).exp * 1000
            if (mustRefresh || expiresAt - Date.now() < 1500) {
              const next = await refresh(pick(urls), session.tokens.refreshToken)
              counts.refreshes++
              if (next.status === 200) {
                session = next.data
                mustRefresh = false
              } else if (isShed(next)) counts.shed++
              else fail(`refresh: ${next.status} ${next.reason}`)
            } else {
              const me = await call(pick(urls), 'query', 'auth.me', {
                token: session.tokens.accessToken,
              })
              counts.calls++
              if (expiredInFlight(me, session.tokens.accessToken)) {
                counts.expiredInFlight++
                mustRefresh = true
              } else if (isShed(me)) counts.shed++
              else if (me.status !== 200) fail(`auth.me: ${me.status} ${me.reason}`)
            }
          } catch (error) {
            fail(`no answer: ${(error as Error).message}`)
          }
          await sleep(800 + Math.random() * 400)
        }
      }),
    )

    // Revocations at a steady rate, each of a session made for it. A sign-in costs an
    // argon2 hash, and 50 of them a second do not fit on two shared cores beside this load,
    // so one revocation in REAL_LOGIN_EVERY signs in through the API (then logs out or
    // revokes by access token) and the others end a session this process inserted with the
    // same query the server's login uses (`createSession`), logged out through the API with
    // its refresh token. Every revocation takes the same path the soak is about: the
    // revoking UPDATE, the NOTIFY, every instance's revocation set. At most 16 in flight;
    // a tick with 16 in flight is skipped (and counted) rather than queued.
    const userIds = [
      ...new Set(sessions.map((session) => claimsOf(session.tokens.accessToken).sub)),
    ]
    let inFlight = 0
    const revokeOne = async (n: number) => {
      inFlight++
      try {
        let reply: Awaited<ReturnType<typeof call>>
        if (n % REAL_LOGIN_EVERY === 0) {
          // Its answer counts as the revocation's when it is not 200 (shed, or a failure).
          const signedIn = await signIn(pick(urls), pick(users).email)
          reply = signedIn
          if (signedIn.status === 200) {
            counts.logins++
            const session = signedIn.data
            reply =
              n % (2 * REAL_LOGIN_EVERY) === 0
                ? await call(pick(urls), 'mutation', 'auth.logout', {
                    token: session.tokens.accessToken,
                  })
                : await call(pick(urls), 'mutation', 'sessions.revoke', {
                    token: session.tokens.accessToken,
                    input: { sessionId: session.session.id },
                  })
          }
        } else {
          const refreshToken = await insertSession(pick(userIds))
          reply = await call(pick(urls), 'mutation', 'auth.logout', { input: { refreshToken } })
        }
        if (reply.status === 200) counts.revocations++
        else if (isShed(reply)) counts.shed++
        else fail(`revoke: ${reply.status} ${reply.reason}`)
      } catch (error) {
        // No answer within the harness's 10 s. The sign-in above is the likely one: the
        // hashing process runs at the lowest priority (by design: a burst of sign-ins
        // queues rather than slowing authenticated calls), so on cores that other suites
        // keep busy one hash can wait that long. Counted and bounded below; an answer
        // that is wrong still fails.
        if ((error as Error).name === 'TimeoutError') counts.unanswered++
        else fail(`revocation: ${(error as Error).message}`)
      } finally {
        inFlight--
      }
    }
    const revocationLoad = (async () => {
      const pending: Promise<void>[] = []
      const every = 1000 / REVOCATIONS_PER_S
      const began = performance.now()
      for (let n = 0; running; n++) {
        const wait = began + n * every - performance.now()
        if (wait > 0) await sleep(wait)
        if (inFlight >= 16) counts.skipped++
        else pending.push(revokeOne(n))
        if (pending.length > 1000) await Promise.all(pending.splice(0, 500))
      }
      await Promise.all(pending)
    })()

    const began = Date.now()
    const samples: number[][] = []
    await sleep(WARMUP_S * 1000)
    const warm = { ...counts }
    const baseline = await Promise.all(instances.map((instance) => instance.heapUsed()))
    samples.push(baseline)
    while (Date.now() - began < SOAK_S * 1000) {
      await sleep(Math.min(5000, Math.max(0, SOAK_S * 1000 - (Date.now() - began))))
      samples.push(await Promise.all(instances.map((instance) => instance.heapUsed())))
    }
    const measuredS = (Date.now() - began) / 1000 - WARMUP_S
    const final = samples.at(-1)!
    running = false
    await Promise.all([sessionLoad, revocationLoad])

    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    const rate = (key: keyof typeof counts) => ((counts[key] - warm[key]) / measuredS).toFixed(0)
    t.comment(
      `after warm-up (${WARMUP_S} s, measured ${measuredS.toFixed(0)} s): ${rate('revocations')} revocations/s (${rate('logins')}/s of them after an API sign-in), ${rate('refreshes')} refreshes/s, ${rate('calls')} auth.me/s, ${counts.skipped} revocation ticks skipped (16 in flight), ${counts.shed} calls shed (DB_UNAVAILABLE), ${counts.expiredInFlight} tokens expired in flight, ${counts.unanswered} revocations unanswered in 10 s, ${harnessRetries} harness inserts tried again`,
    )
    for (const [index] of instances.entries()) {
      const series = samples.map((sample) => sample[index]!)
      const growth = (final[index]! - baseline[index]!) / baseline[index]!
      t.comment(
        `instance ${index}: heap at start ${mb(initial[index]!)}, after warm-up ${mb(baseline[index]!)}, end ${mb(final[index]!)} (${(growth * 100).toFixed(1)} %), max ${mb(Math.max(...series))}; samples ${series.map(mb).join(' ')}`,
      )
      t.ok(
        growth <= MAX_GROWTH,
        `instance ${index}: heap within ${MAX_GROWTH * 100} % of its post-warm-up size (${(growth * 100).toFixed(1)} %)`,
      )
    }
    t.same(failures, [], 'no call failed during the soak')
    const answered = counts.calls + counts.refreshes
    t.ok(
      counts.shed + counts.expiredInFlight <= answered * MAX_RETRIED,
      `at most ${MAX_RETRIED * 100} % of ${answered} calls shed (${counts.shed}) or expired in flight (${counts.expiredInFlight})`,
    )
    t.ok(
      counts.unanswered <= (counts.revocations + counts.unanswered) * 0.05,
      `at most 5 % of ${counts.revocations + counts.unanswered} revocations unanswered in 10 s (${counts.unanswered})`,
    )
    t.ok(
      instances.every((instance) => instance.alive),
      'every instance is still running',
    )
  },
)
