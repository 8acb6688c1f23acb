// Refresh-token rotation throughput: `rotateRefreshToken` through Kysely versus the same
// statement as raw SQL (the database's own ceiling), 10 concurrent clients over 100 000
// seeded sessions, on PostgreSQL (embedded 17, or BENCH_DATABASE_URL / TEST_DATABASE_URL)
// and on PGlite in memory. Run: `pnpm bench` in packages/db.
import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import pg from 'pg'
import { createDatabase, type Database, rotateRefreshToken } from '../src/index.js'
import { startTestPostgres } from '../src/testing/index.js'

const SESSIONS = 100_000
const CLIENTS = 10
const WARMUP_MS = 1000
const RUN_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000
const IDLE = 7 * 86_400
const GRACE = 10

// The statement rotateRefreshToken issues on its happy path, written by hand (in the
// default schema, where createDatabase puts the tables).
const RAW_ROTATE = `
with rotated as (
  update breakwater.sessions set
    previous_token_hash = current_token_hash,
    current_token_hash = $1,
    rotated_at = $2,
    successor_sealed = $3,
    last_used_at = $2,
    idle_expires_at = least($4::timestamptz, expires_at)
  where current_token_hash = $5 and revoked_at is null
    and idle_expires_at > $2 and expires_at > $2
  returning id, user_id, created_at, last_used_at, idle_expires_at, expires_at,
            revoked_at, revoked_reason, user_agent, ip
), chained as (
  insert into breakwater.refresh_tokens (token_hash, session_id, issued_at)
  select $1, id, $2 from rotated
)
select * from rotated`

type Rotate = (presented: string, next: string, sealed: string, now: Date) => Promise<boolean>

interface Figures {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly count: number
}

async function seed(database: Database): Promise<void> {
  const started = Date.now()
  const { db } = database
  await sql`insert into breakwater.users (id, email, email_canonical, password_hash, created_at, updated_at)
    select gen_random_uuid(), 'bench' || i || '@example.com', 'bench' || i || '@example.com', 'x', now(), now()
    from generate_series(1, 1000) as i`.execute(db)
  // Session i belongs to user (i % 1000); its first token hash is 'seed-<i>'.
  await sql`
    with u as (select id, row_number() over (order by id) - 1 as n from breakwater.users)
    insert into breakwater.sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at,
                          current_token_hash)
    select gen_random_uuid(), u.id, now(), now(), now() + interval '7 days',
           now() + interval '30 days', 'seed-' || i
    from generate_series(0, ${SESSIONS - 1}::int) as i join u on u.n = i % 1000`.execute(db)
  await sql`insert into breakwater.refresh_tokens (token_hash, session_id, issued_at)
    select current_token_hash, id, created_at from breakwater.sessions`.execute(db)
  await sql`analyze`.execute(db)
  console.log(`  seeded ${SESSIONS.toLocaleString('en')} sessions in ${Date.now() - started} ms`)
}

/**
 * Runs CLIENTS loops, each rotating its own slice of sessions [from, to), for the
 * warm-up then the measured period. Deadlines are read from the clock, not timers:
 * PGlite answers on the microtask queue, so a timer would never get to fire.
 */
async function run(rotate: Rotate, from: number, to: number): Promise<Figures> {
  const current = new Map<number, string>()
  const latencies: number[] = []
  const sealed = randomBytes(60).toString('base64url')
  const measureFrom = performance.now() + WARMUP_MS
  const end = measureFrom + RUN_MS
  const client = async (c: number) => {
    let i = from + c
    for (;;) {
      const t0 = performance.now()
      if (t0 >= end) return
      const presented = current.get(i) ?? `seed-${i}`
      const next = randomBytes(32).toString('base64url')
      const ok = await rotate(presented, next, sealed, new Date())
      if (!ok) throw new Error(`rotation of session ${i} did not succeed`)
      if (t0 >= measureFrom) latencies.push(performance.now() - t0)
      current.set(i, next)
      i += CLIENTS
      if (i >= to) i = from + c
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))
  latencies.sort((a, b) => a - b)
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    perSecond: (latencies.length / RUN_MS) * 1000,
    p50: at(0.5),
    p99: at(0.99),
    count: latencies.length,
  }
}

/**
 * Alternates raw and Kysely runs (raw, Kysely, Kysely, raw) on four disjoint quarters
 * of the sessions, so table growth and machine noise fall on both sides alike, and
 * sums each side's two runs.
 */
async function compare(raw: Rotate, kysely: Rotate): Promise<[Figures, Figures]> {
  const q = SESSIONS / 4
  const r1 = await run(raw, 0, q)
  const k1 = await run(kysely, q, 2 * q)
  const k2 = await run(kysely, 2 * q, 3 * q)
  const r2 = await run(raw, 3 * q, SESSIONS)
  const merge = (a: Figures, b: Figures): Figures => ({
    perSecond: (a.perSecond + b.perSecond) / 2,
    p50: (a.p50 + b.p50) / 2,
    p99: Math.max(a.p99, b.p99),
    count: a.count + b.count,
  })
  return [merge(r1, r2), merge(k1, k2)]
}

const viaKysely =
  (database: Database): Rotate =>
  async (presentedHash, newTokenHash, sealedSuccessor, now) =>
    (
      await rotateRefreshToken(database.db, {
        presentedHash,
        newTokenHash,
        sealedSuccessor,
        now,
        graceSeconds: GRACE,
        idleTtlSeconds: IDLE,
      })
    ).kind === 'rotated'

const params = (presented: string, next: string, sealed: string, now: Date) => [
  next,
  now,
  sealed,
  new Date(now.getTime() + IDLE * 1000),
  presented,
]

function line(label: string, f: Figures): string {
  return `  ${label.padEnd(30)} ${f.perSecond.toFixed(0).padStart(7)} rotations/s   p50 ${f.p50.toFixed(2)} ms   p99 ${f.p99.toFixed(2)} ms   (${f.count} in 2 × ${RUN_MS / 1000} s)`
}

function report(engine: string, raw: Figures, kysely: Figures): number {
  const ratio = kysely.perSecond / raw.perSecond
  console.log(line('raw SQL', raw))
  console.log(line('@breakwater/db rotateRefreshToken', kysely))
  console.log(
    `  ${engine}: ratio ${ratio.toFixed(2)} of raw (goal >= 0.90) ${ratio >= 0.9 ? 'OK' : 'BELOW GOAL'}`,
  )
  return ratio
}

async function benchPostgres(): Promise<number> {
  const external = process.env.BENCH_DATABASE_URL
  const url = external ?? (await (await startTestPostgres()).createDatabaseUrl())
  console.log(
    `\nPostgreSQL (${external ? 'BENCH_DATABASE_URL' : process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'embedded 17, fsync off'}), ${CLIENTS} clients`,
  )
  const database = await createDatabase(url, { revocationSync: 'off', pool: { max: CLIENTS } })
  const pool = new pg.Pool({ connectionString: url, max: CLIENTS })
  pool.on('error', () => {})
  try {
    await seed(database)
    const [raw, kysely] = await compare(
      async (p, n, s, now) => (await pool.query(RAW_ROTATE, params(p, n, s, now))).rowCount === 1,
      viaKysely(database),
    )
    return report('PostgreSQL', raw, kysely)
  } finally {
    await pool.end()
    await database.close()
  }
}

async function benchPGlite(): Promise<number> {
  console.log(`\nPGlite (in memory, in process), ${CLIENTS} concurrent callers`)
  const pglite = new PGlite()
  const database = await createDatabase(undefined, { pglite, revocationSync: 'off' })
  try {
    await seed(database)
    const [raw, kysely] = await compare(
      async (p, n, s, now) =>
        (await pglite.query(RAW_ROTATE, params(p, n, s, now))).rows.length === 1,
      viaKysely(database),
    )
    return report('PGlite', raw, kysely)
  } finally {
    await database.close()
  }
}

const started = Date.now()
console.log(
  `rotate.bench: refresh-token rotation, ${SESSIONS.toLocaleString('en')} sessions, ${CLIENTS} clients, ${RUN_MS / 1000} s per run after ${WARMUP_MS / 1000} s warm-up`,
)
const pgRatio = await benchPostgres()
const liteRatio = await benchPGlite()
console.log(
  `\nsummary: PostgreSQL ${pgRatio.toFixed(2)} of raw, PGlite ${liteRatio.toFixed(2)} of raw; total ${((Date.now() - started) / 1000).toFixed(0)} s`,
)
