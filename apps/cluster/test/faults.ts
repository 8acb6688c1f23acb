// Faults under load, loopback only, every loop bounded: an instance killed outright,
// PostgreSQL stopped for 10 s, the revocation listener's connection cut. Run by
// shared-state.test.ts on its cluster once the healthy-cluster tests are done: one cluster
// (and one PostgreSQL) started for both instead of two.
import pg from 'pg'
import type { Test } from 'tap'
import {
  type AuthResult,
  type Cluster,
  call,
  refresh,
  register,
  revocationLags,
  sleep,
} from '../src/index.js'

const CLIENTS = 12
// Answered calls per client before the kill, and again after it on another instance: every
// fifth is a refresh.
const LOAD_ROUNDS = 25

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<T>(text)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

const liveSessions = async (cluster: Cluster) =>
  (
    await sql<{ n: number }>(
      cluster.databaseUrl,
      'select count(*)::int as n from breakwater.sessions where revoked_at is null',
    )
  )[0]!.n

const listeners = async (cluster: Cluster) =>
  (
    await sql<{ n: number }>(
      cluster.databaseUrl,
      "select count(*)::int as n from pg_stat_activity where application_name = 'breakwater-revocations' and datname = current_database()",
    )
  )[0]!.n

/**
 * A bearer client that stays on one instance and moves to the next when that one stops
 * answering, as a load balancer's health check would make it. A refresh whose answer was
 * lost is retried with the same refresh token: the reuse grace window (SPEC §4.1) gives
 * back the same successor, so a refresh cut off by a crash loses nothing.
 */
class FailoverClient {
  readonly urls: readonly string[]
  current: number
  session: AuthResult
  switches = 0
  calls = 0
  /** Calls that got an HTTP answer. */
  answered = 0
  readonly failures: string[] = []

  constructor(urls: readonly string[], current: number, session: AuthResult) {
    this.urls = urls
    this.current = current
    this.session = session
  }

  get url(): string {
    return this.urls[this.current]!
  }

  async #send<T>(attempt: (url: string) => Promise<T>): Promise<T | undefined> {
    for (let tries = 0; tries < this.urls.length; tries++) {
      try {
        this.calls++
        const reply = await attempt(this.url)
        this.answered++
        return reply
      } catch {
        this.current = (this.current + 1) % this.urls.length
        this.switches++
      }
    }
    this.failures.push('no instance answered')
    return undefined
  }

  async me(): Promise<number | undefined> {
    const reply = await this.#send((url) =>
      call(url, 'query', 'auth.me', { token: this.session.tokens.accessToken }),
    )
    if (reply && reply.status !== 200)
      this.failures.push(`auth.me on ${this.url}: ${reply.status} ${reply.reason}`)
    return reply?.status
  }

  async refresh(): Promise<{ status: number; reason: string | undefined } | undefined> {
    const presented = this.session.tokens.refreshToken
    const reply = await this.#send((url) => refresh(url, presented))
    if (reply?.status === 200) this.session = reply.data
    return reply
  }
}

/**
 * The fault tests on a running cluster of three instances (`LOGIN_IP_LIMIT` high: every
 * call comes from 127.0.0.1). They leave it running: the killed instance restarted,
 * PostgreSQL started again, the listeners reconnected.
 */
export async function faultsUnderLoad(t: Test, cluster: Cluster): Promise<void> {
  const { urls, instances } = cluster

  // Every client starts on instance 0, the one that will die.
  const clients: FailoverClient[] = []
  for (let i = 0; i < CLIENTS; i += 4) {
    const sessions = await Promise.all(
      Array.from({ length: Math.min(4, CLIENTS - i) }, () => register(urls[0]!)),
    )
    clients.push(...sessions.map((session) => new FailoverClient(urls, 0, session)))
  }

  await t.test('kill -9 of one instance: clients move on, no session is lost', async (t) => {
    const before = await liveSessions(cluster)
    let running = true
    const load = Promise.all(
      clients.map(async (client) => {
        for (let i = 0; running && i < 10_000; i++) {
          if (i % 5 === 4) {
            const reply = await client.refresh()
            if (reply && reply.status !== 200)
              client.failures.push(`refresh: ${reply.status} ${reply.reason}`)
          } else await client.me()
          await sleep(20)
        }
      }),
    )
    // The load runs until every client has had LOAD_ROUNDS answers (refreshes among them)
    // on instance 0, then instance 0 dies, and it runs until every client has had as many
    // on another instance; 10 s bound each wait.
    const answered = () => clients.map((client) => client.answered)
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000
      while (!done() && Date.now() < deadline) await sleep(20)
    }
    await until(() => answered().every((n) => n >= LOAD_ROUNDS))
    const exit = await instances[0]!.kill('SIGKILL')
    t.equal(exit.signal, 'SIGKILL', 'instance 0 died of SIGKILL')
    const atKill = answered()
    await until(() =>
      clients.every(
        (client, i) => client.current !== 0 && client.answered - atKill[i]! >= LOAD_ROUNDS,
      ),
    )
    running = false
    await load

    const failures = clients.flatMap((client) => client.failures)
    t.same(failures, [], 'no call answered anything but 200 (connection errors aside)')
    t.ok(
      clients.every((client) => client.switches >= 1 && client.current !== 0),
      'every client moved to another instance',
    )
    for (const client of clients) {
      t.equal(await client.me(), 200, `session ${client.session.session.id.slice(0, 8)} lives`)
    }
    const after = await liveSessions(cluster)
    t.equal(after, before, `live sessions before and after: ${before} → ${after}`)
    t.comment(
      `kill -9: ${clients.reduce((n, c) => n + c.calls, 0)} calls, live sessions ${before} → ${after}`,
    )

    await instances[0]!.restart()
    const back = await call(urls[0]!, 'query', 'auth.me', {
      token: clients[0]!.session.tokens.accessToken,
    })
    t.equal(back.status, 200, 'the restarted instance serves the same sessions')
  })

  await t.test(
    'PostgreSQL stopped for 10 s: valid tokens answer, refresh is 503, nothing lost',
    async (t) => {
      if (!cluster.postgres.controllable) {
        t.comment('TEST_DATABASE_URL points at a server this suite cannot stop')
        return
      }
      // Each instance answers auth.me from the last session row it saw while storage is
      // down; show every instance every session first, as traffic would.
      for (const client of clients) {
        for (const url of urls) {
          const me = await call(url, 'query', 'auth.me', {
            token: client.session.tokens.accessToken,
          })
          t.equal(me.status, 200)
        }
      }
      const before = await liveSessions(cluster)
      await cluster.postgres.stop()
      const stoppedAt = Date.now()
      const me: Record<string, number> = {}
      const refreshes: Record<string, number> = {}
      let notReady = 0
      try {
        for (let round = 0; Date.now() - stoppedAt < 10_000 && round < 1000; round++) {
          for (const [i, client] of clients.entries()) {
            const url = urls[(round + i) % urls.length]!
            const reply = await call(url, 'query', 'auth.me', {
              token: client.session.tokens.accessToken,
            })
            const key = `${reply.status} ${reply.reason ?? ''}`.trim()
            me[key] = (me[key] ?? 0) + 1
          }
          if (round % 10 === 0) {
            for (const [i, client] of clients.entries()) {
              const reply = await refresh(
                urls[(round + i) % urls.length]!,
                client.session.tokens.refreshToken,
              )
              const key = `${reply.status} ${reply.reason ?? ''}`.trim()
              refreshes[key] = (refreshes[key] ?? 0) + 1
            }
            for (const url of urls) {
              if ((await fetch(`${url}/readyz`)).status === 503) notReady++
            }
          }
          await sleep(50)
        }
      } finally {
        await cluster.postgres.start()
      }
      t.same(Object.keys(me), ['200'], `auth.me while PostgreSQL was down: ${JSON.stringify(me)}`)
      t.same(
        Object.keys(refreshes),
        ['503 DB_UNAVAILABLE'],
        `refreshes while down: ${JSON.stringify(refreshes)}`,
      )
      t.ok(notReady > 0, '/readyz said 503 while down')
      t.ok(
        instances.every((instance) => instance.alive),
        'no instance exited',
      )

      const backAt = Date.now()
      for (const client of clients) {
        let status: number | undefined
        while (Date.now() - backAt < 15_000) {
          status = (await client.refresh())?.status
          if (status === 200) break
          await sleep(200)
        }
        t.equal(status, 200, 'refresh works again')
      }
      t.comment(
        `refresh of every client worked again ${Date.now() - backAt} ms after PostgreSQL came back`,
      )
      const after = await liveSessions(cluster)
      t.equal(after, before, `live sessions before and after: ${before} → ${after}`)
      t.comment(
        `PostgreSQL down 10 s: auth.me ${JSON.stringify(me)}, refresh ${JSON.stringify(refreshes)}, live sessions ${before} → ${after}`,
      )

      // The listeners reconnect (with backoff) on their own; then revocations flow again.
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline && (await listeners(cluster)) < urls.length) await sleep(200)
      t.equal(await listeners(cluster), urls.length, 'every listener reconnected')
      const victim = await register(urls[1]!)
      const since = performance.now()
      await call(urls[1]!, 'mutation', 'auth.logout', { token: victim.tokens.accessToken })
      const lags = await revocationLags([urls[0]!, urls[2]!], victim.tokens.accessToken, since)
      t.ok(
        lags.every((lag) => lag <= 1000),
        `revocations propagate again (${lags.map((l) => l.toFixed(0)).join(', ')} ms)`,
      )
    },
  )

  await t.test('the listener connection killed: revocations still propagate', async (t) => {
    const first = await register(urls[0]!)
    const second = await register(urls[1]!)
    t.equal(await listeners(cluster), urls.length, 'one listener connection per instance')
    const killed = await sql<{ ok: boolean }>(
      cluster.databaseUrl,
      "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'breakwater-revocations' and datname = current_database()",
    )
    t.equal(killed.filter((row) => row.ok).length, urls.length, 'every listener terminated')

    // Revoked while the listeners are down: the reconnect's catch-up replays it.
    let since = performance.now()
    await call(urls[0]!, 'mutation', 'auth.logout', { token: first.tokens.accessToken })
    const gapLags = await revocationLags([urls[1]!, urls[2]!], first.tokens.accessToken, since)
    t.ok(
      gapLags.every((lag) => lag <= 1000),
      `a revocation made while they were down arrives by catch-up (${gapLags.map((l) => l.toFixed(0)).join(', ')} ms)`,
    )

    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && (await listeners(cluster)) < urls.length) await sleep(100)
    t.equal(await listeners(cluster), urls.length, 'every listener reconnected')
    since = performance.now()
    await call(urls[1]!, 'mutation', 'auth.logout', { token: second.tokens.accessToken })
    const lags = await revocationLags([urls[0]!, urls[2]!], second.tokens.accessToken, since)
    t.ok(
      lags.every((lag) => lag <= 1000),
      `after the reconnect, within 1 s (${lags.map((l) => l.toFixed(0)).join(', ')} ms)`,
    )
    t.comment(
      `listener killed: lag during the gap ${gapLags.map((l) => l.toFixed(0)).join('/')} ms, after reconnect ${lags.map((l) => l.toFixed(0)).join('/')} ms`,
    )
  })
}
