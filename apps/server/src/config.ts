import { parseDuration, parseSecrets } from '@breakwater/tokens'

/** The server's configuration, read once from the environment (SPEC §7). */
export interface Config {
  readonly port: number
  readonly host: string
  readonly databaseUrl: string | undefined
  readonly dataDir: string | undefined
  /**
   * BREAKWATER_SECRET: the key-encryption secrets sealing the signing keys, newest first.
   * Never logged. Unset on the embedded database: the plugin keeps one in the data directory.
   */
  readonly secret: readonly string[] | undefined
  readonly issuer: string
  readonly accessTokenTtl: number
  readonly refreshIdleTtl: number
  readonly sessionMaxAge: number
  readonly refreshReuseGrace: number
  readonly clockLeeway: number
  readonly allowedOrigins: readonly string[]
  readonly cookieSecure: boolean | 'auto'
  readonly loginAccountLimit: string
  readonly loginIpLimit: string
  readonly trustProxy: boolean | number | string
  readonly logLevel: string
  readonly revocationSync: 'notify' | 'poll'
  readonly revocationPollInterval: number
  readonly revocationListenUrl: string | undefined
  readonly webDir: string | undefined
}

export class ConfigError extends Error {
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

const MAKE_SECRET =
  "node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\""

/**
 * Validates every variable and reports every problem at once, one line per
 * bad variable, so a deploy fails with the whole list rather than one at a time.
 * Messages quote a bad value only where it cannot be a secret.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    try {
      return parse(raw.trim())
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`)
      return fallback
    }
  }
  const duration = (name: string, fallback: string, max?: number) =>
    read(name, parseDuration(fallback), (raw) => {
      let seconds: number
      try {
        seconds = parseDuration(raw)
      } catch {
        throw new Error(`${JSON.stringify(raw)} is not a duration such as 30s, 15m or 7d`)
      }
      if (max !== undefined && seconds > max) throw new Error(`must be at most ${max}s, got ${raw}`)
      return seconds
    })
  const rateLimit = (name: string, fallback: string) =>
    read(name, fallback, (raw) => {
      const match = /^(\d{1,6})\/(\d{1,9}[smhd])$/.exec(raw)
      if (!match || Number(match[1]) < 1)
        throw new Error(`${JSON.stringify(raw)} is not a limit such as 5/15m`)
      return raw
    })

  const port = read('PORT', 3000, (raw) => {
    const value = Number(raw)
    if (!/^\d+$/.test(raw) || value < 0 || value > 65_535)
      throw new Error(`${JSON.stringify(raw)} is not a port number (0–65535)`)
    return value
  })
  const host = read('HOST', '127.0.0.1', (raw) => {
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(raw))
      throw new Error(`${JSON.stringify(raw)} is not a host name or address`)
    return raw
  })
  const postgresUrl = (raw: string) => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new Error('is not a URL (expected postgres://user:password@host:5432/database)')
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
      throw new Error(`must start with postgres:// (got ${url.protocol}//)`)
    return raw
  }
  const databaseUrl = read<string | undefined>('DATABASE_URL', undefined, postgresUrl)
  const revocationListenUrl = read<string | undefined>(
    'REVOCATION_LISTEN_URL',
    undefined,
    postgresUrl,
  )
  // Comma-separated, newest first ("new,old" while rotating). Messages name an entry by
  // its position, never its value.
  const secret = read<readonly string[] | undefined>('BREAKWATER_SECRET', undefined, (raw) => {
    try {
      parseSecrets(raw, 'secret')
    } catch (error) {
      throw new Error(`${(error as Error).message}; make one with ${MAKE_SECRET}`)
    }
    return Object.freeze(
      raw
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
  })
  const issuer = read('BREAKWATER_ISSUER', 'breakwater', (raw) => raw)
  const accessTokenTtl = duration('ACCESS_TOKEN_TTL', '15m')
  const refreshIdleTtl = duration('REFRESH_IDLE_TTL', '7d')
  const sessionMaxAge = duration('SESSION_MAX_AGE', '30d')
  const refreshReuseGrace = duration('REFRESH_REUSE_GRACE', '10s')
  const clockLeeway = duration('CLOCK_LEEWAY', '5s', 30)
  const allowedOrigins = read<string[]>('ALLOWED_ORIGINS', [], (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((origin) => {
        let url: URL
        try {
          url = new URL(origin)
        } catch {
          throw new Error(
            `${JSON.stringify(origin)} is not an origin such as https://app.example.com`,
          )
        }
        if (!/^https?:$/.test(url.protocol) || url.origin !== origin.replace(/\/$/, '')) {
          throw new Error(
            `${JSON.stringify(origin)} is not an origin such as https://app.example.com`,
          )
        }
        return url.origin
      }),
  )
  const cookieSecure = read<boolean | 'auto'>('COOKIE_SECURE', 'auto', (raw) => {
    if (raw === 'true') return true
    if (raw === 'false') return false
    throw new Error(`must be true or false, got ${JSON.stringify(raw)}`)
  })
  const loginAccountLimit = rateLimit('LOGIN_ACCOUNT_LIMIT', '5/15m')
  const loginIpLimit = rateLimit('LOGIN_IP_LIMIT', '30/1m')
  const trustProxy = read<boolean | number | string>('TRUST_PROXY', false, (raw) => {
    if (raw === 'true') return true
    if (raw === 'false') return false
    if (/^\d{1,2}$/.test(raw)) return Number(raw)
    if (/^[0-9a-fA-F.:/,\s]+$/.test(raw)) return raw
    throw new Error(
      'must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
    )
  })
  const logLevel = read('LOG_LEVEL', 'info', (raw) => {
    if (!LOG_LEVELS.includes(raw))
      throw new Error(`must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`)
    return raw
  })
  const revocationSync = read<'notify' | 'poll'>('REVOCATION_SYNC', 'notify', (raw) => {
    if (raw !== 'notify' && raw !== 'poll')
      throw new Error(`must be notify or poll, got ${JSON.stringify(raw)}`)
    return raw
  })
  const revocationPollInterval = read('REVOCATION_POLL_INTERVAL', 500, (raw) => {
    const match = /^(\d{1,6})ms$/.exec(raw)
    if (match) return Number(match[1])
    try {
      return parseDuration(raw) * 1000
    } catch {
      throw new Error(`${JSON.stringify(raw)} is not an interval such as 500ms or 1s`)
    }
  })

  const secretProblem = problems.some((line) => line.startsWith('BREAKWATER_SECRET:'))
  if (databaseUrl !== undefined && secret === undefined && !secretProblem) {
    problems.push(
      `BREAKWATER_SECRET: required with DATABASE_URL (signing keys are stored encrypted under it, outside the database); make one with ${MAKE_SECRET} and give every instance the same value`,
    )
  }
  if (refreshIdleTtl <= accessTokenTtl)
    problems.push('REFRESH_IDLE_TTL: must be longer than ACCESS_TOKEN_TTL')
  if (sessionMaxAge < refreshIdleTtl)
    problems.push('SESSION_MAX_AGE: must be at least REFRESH_IDLE_TTL')
  if (problems.length > 0) throw new ConfigError(problems)

  return Object.freeze({
    port,
    host,
    databaseUrl,
    dataDir: env.BREAKWATER_DATA_DIR || undefined,
    secret,
    issuer,
    accessTokenTtl,
    refreshIdleTtl,
    sessionMaxAge,
    refreshReuseGrace,
    clockLeeway,
    allowedOrigins,
    cookieSecure,
    loginAccountLimit,
    loginIpLimit,
    trustProxy,
    logLevel,
    revocationSync,
    revocationPollInterval,
    revocationListenUrl,
    webDir: env.BREAKWATER_WEB_DIR || undefined,
  })
}
