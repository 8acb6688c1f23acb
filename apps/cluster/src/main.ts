// `pnpm cluster [instances]`: a throwaway PostgreSQL and N instances of apps/server on
// loopback, all on one database, until Ctrl-C or SIGTERM.
import { redactUrl } from '@breakwater/db'
import { type Cluster, startCluster } from './cluster.js'

// The server's own settings pass through from this shell (PORT, HOST and DATABASE_URL
// belong to the harness).
const PASSED = [
  'BREAKWATER_ISSUER',
  'ACCESS_TOKEN_TTL',
  'REFRESH_IDLE_TTL',
  'SESSION_MAX_AGE',
  'REFRESH_REUSE_GRACE',
  'CLOCK_LEEWAY',
  'ALLOWED_ORIGINS',
  'COOKIE_SECURE',
  'LOGIN_ACCOUNT_LIMIT',
  'LOGIN_IP_LIMIT',
  'REFRESH_LIMIT',
  'AUDIT_RETENTION',
  'BREAKWATER_SECRET',
  'TRUST_PROXY',
  'LOG_LEVEL',
  'REVOCATION_SYNC',
  'REVOCATION_POLL_INTERVAL',
]

const arg = process.argv[2] ?? process.env.CLUSTER_INSTANCES ?? '3'
const instances = Number(arg)
if (!/^\d+$/.test(arg) || instances < 1 || instances > 32) {
  process.stderr.write('usage: pnpm cluster [instances (1–32, default 3)]\n')
  process.exit(2)
}
const env: Record<string, string> = { LOG_LEVEL: 'info' }
for (const name of PASSED) {
  const value = process.env[name]
  if (value !== undefined && value !== '') env[name] = value
}

let stopping = false
let cluster: Cluster | undefined
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(1)
  stopping = true
  // Still starting: exiting runs the exit hooks, which kill the instances started so far
  // and stop PostgreSQL.
  if (!cluster) process.exit(130)
  process.stdout.write(`\n${signal}: stopping the instances and PostgreSQL…\n`)
  cluster.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`)
      process.exit(1)
    },
  )
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)

process.stdout.write(`starting PostgreSQL and ${instances} instance(s)…\n`)
cluster = await startCluster({ instances, env, output: 'inherit' })
process.stdout.write(
  [
    '',
    'breakwater cluster ready:',
    ...cluster.urls.map((url, index) => `  [${index}] ${url}`),
    `  database ${redactUrl(cluster.databaseUrl)} (password withheld; the instances have it)`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'),
)
for (const instance of cluster.instances) {
  instance.process.once('exit', (code, signal) => {
    if (!stopping) process.stdout.write(`instance ${instance.index} exited (${code ?? signal})\n`)
  })
}
