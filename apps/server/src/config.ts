import { DEFAULT_SCHEMA } from '@breakwater/db'
import { checkOptions, DEFAULTS } from '@breakwater/server'
import { parseDuration, parseSecrets } from '@breakwater/tokens'

/** The variables that set one of the plugin's options, and which. */
const OPTION_OF = {
  BREAKWATER_ISSUER: 'issuer',
  ACCESS_TOKEN_TTL: 'accessTokenTtl',
  REFRESH_IDLE_TTL: 'refreshIdleTtl',
  SESSION_MAX_AGE: 'sessionMaxAge',
  REFRESH_REUSE_GRACE: 'refreshReuseGrace',
  CLOCK_LEEWAY: 'clockLeeway',
  ALLOWED_ORIGINS: 'allowedOrigins',
  COOKIE_SECURE: 'cookieSecure',
  COOKIE_SAMESITE: 'cookieSameSite',
  COOKIE_DOMAIN: 'cookieDomain',
  LOGIN_ACCOUNT_LIMIT: 'loginAccountLimit',
  LOGIN_IP_LIMIT: 'loginIpLimit',
  REFRESH_LIMIT: 'refreshLimit',
  AUDIT_RETENTION: 'auditRetention',
  PUBLIC_URL: 'publicUrl',
  VERIFICATION_TTL: 'verificationTtl',
  PASSWORD_RESET_TTL: 'passwordResetTtl',
  EMAIL_CHANGE_TTL: 'emailChangeTtl',
  SIGN_IN_CODE_TTL: 'signInCodeTtl',
  STEP_UP_MAX_AGE: 'stepUpMaxAge',
  WEBAUTHN_RP_ID: 'webauthnRpId',
  MAIL_LIMIT: 'mailLimit',
  REQUIRE_EMAIL_VERIFICATION: 'requireEmailVerification',
} as const

/** The server's configuration, read once from the environment (SPEC §7). */
export interface Config {
  readonly port: number
  readonly host: string
  readonly databaseUrl: string | undefined
  /** DATABASE_SCHEMA: the PostgreSQL schema of every Breakwater table and its migration history (`breakwater`). */
  readonly databaseSchema: string
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
  /** COOKIE_SAMESITE: `lax` (default; the refresh cookie stays `strict`), `strict`, or `none` for a web app on another site (forces Secure). */
  readonly cookieSameSite: 'lax' | 'strict' | 'none'
  /** COOKIE_DOMAIN: the cookies' `Domain`, shared with sibling hosts; unset keeps host-only `__Host-` cookies. */
  readonly cookieDomain: string | undefined
  readonly loginAccountLimit: string
  readonly loginIpLimit: string
  readonly refreshLimit: string
  readonly auditRetention: number
  readonly trustProxy: boolean | number | string
  readonly logLevel: string
  readonly revocationSync: 'notify' | 'poll'
  readonly revocationPollInterval: number
  readonly revocationListenUrl: string | undefined
  readonly webDir: string | undefined
  /** PUBLIC_URL: where links in mail point (default: this server's own address). */
  readonly publicUrl: string | undefined
  /** SMTP_URL (`smtp://`, `smtps://`); unset: mail goes to `<dataDir>/outbox`. Never logged. */
  readonly smtpUrl: string | undefined
  readonly mailFrom: string | undefined
  readonly verificationTtl: number
  readonly passwordResetTtl: number
  readonly emailChangeTtl: number
  readonly signInCodeTtl: number
  /** STEP_UP_MAX_AGE: how recent a proof of a factor credential changes need. */
  readonly stepUpMaxAge: number
  /** WEBAUTHN_RP_ID: the domain passkeys are bound to (default: PUBLIC_URL's host, else localhost). */
  readonly webauthnRpId: string | undefined
  readonly mailLimit: string
  readonly requireEmailVerification: boolean
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

// What PostgreSQL takes unquoted in 63 bytes (NAMEDATALEN - 1); @breakwater/db checks the same.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

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
  const databaseSchema = read('DATABASE_SCHEMA', DEFAULT_SCHEMA, (raw) => {
    if (!SCHEMA_NAME.test(raw))
      throw new Error(
        `${JSON.stringify(raw.slice(0, 80))} is not a plain lower-case identifier (${SCHEMA_NAME.source})`,
      )
    if (raw.startsWith('pg_') || raw === 'information_schema')
      throw new Error(`${JSON.stringify(raw)} is reserved for PostgreSQL's own catalogues`)
    return raw
  })
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
  const cookieSecure = read<boolean | 'auto'>('COOKIE_SECURE', 'auto', (raw) => {
    if (raw === 'true') return true
    if (raw === 'false') return false
    throw new Error(`must be true or false, got ${JSON.stringify(raw)}`)
  })
  const cookieSameSite = read<'lax' | 'strict' | 'none'>('COOKIE_SAMESITE', 'lax', (raw) => {
    const value = raw.toLowerCase()
    if (value !== 'lax' && value !== 'strict' && value !== 'none')
      throw new Error(`must be lax, strict or none, got ${JSON.stringify(raw.slice(0, 40))}`)
    return value
  })
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
  // The plugin's own options: validated by the plugin's one implementation,
  // with its option names turned back into these variables' names.
  const raw = (name: keyof typeof OPTION_OF) => env[name]?.trim() || undefined
  const loginAccountLimit = raw('LOGIN_ACCOUNT_LIMIT') ?? DEFAULTS.loginAccountLimit
  const loginIpLimit = raw('LOGIN_IP_LIMIT') ?? DEFAULTS.loginIpLimit
  const refreshLimit = raw('REFRESH_LIMIT') ?? DEFAULTS.refreshLimit
  const requireEmailVerification = read('REQUIRE_EMAIL_VERIFICATION', false, (value) => {
    if (value === 'true') return true
    if (value === 'false') return false
    throw new Error(`must be true or false, got ${JSON.stringify(value)}`)
  })
  // The URL may hold the SMTP password: a problem names the scheme only.
  const smtpUrl = read<string | undefined>('SMTP_URL', undefined, (value) => {
    if (!/^smtps?:\/\/\S+$/.test(value))
      throw new Error('must start with smtp:// or smtps:// (smtp://user:password@host:587)')
    return value
  })
  const checked = checkOptions({
    issuer: raw('BREAKWATER_ISSUER'),
    accessTokenTtl: raw('ACCESS_TOKEN_TTL'),
    refreshIdleTtl: raw('REFRESH_IDLE_TTL'),
    sessionMaxAge: raw('SESSION_MAX_AGE'),
    refreshReuseGrace: raw('REFRESH_REUSE_GRACE'),
    clockLeeway: raw('CLOCK_LEEWAY'),
    allowedOrigins: (raw('ALLOWED_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    // Checked together: SameSite=None without Secure is refused by browsers.
    cookieSecure,
    cookieSameSite,
    cookieDomain: raw('COOKIE_DOMAIN'),
    loginAccountLimit,
    loginIpLimit,
    refreshLimit,
    auditRetention: raw('AUDIT_RETENTION'),
    publicUrl: raw('PUBLIC_URL'),
    verificationTtl: raw('VERIFICATION_TTL'),
    passwordResetTtl: raw('PASSWORD_RESET_TTL'),
    emailChangeTtl: raw('EMAIL_CHANGE_TTL'),
    signInCodeTtl: raw('SIGN_IN_CODE_TTL'),
    stepUpMaxAge: raw('STEP_UP_MAX_AGE'),
    webauthnRpId: raw('WEBAUTHN_RP_ID'),
    mailLimit: raw('MAIL_LIMIT') ?? DEFAULTS.mailLimit,
    requireEmailVerification,
  })
  const variableOf = new Map<string, string>(
    Object.entries(OPTION_OF).map(([name, option]) => [option, name]),
  )
  const rename = (text: string) =>
    text.replace(/\b[a-z][A-Za-z]+\b/g, (word) => variableOf.get(word) ?? word)
  for (const problem of checked.problems)
    problems.push(`${rename(problem.option)}: ${rename(problem.message)}`)
  if (problems.length > 0) throw new ConfigError(problems)
  const { settings } = checked

  return Object.freeze({
    port,
    host,
    databaseUrl,
    databaseSchema,
    dataDir: env.BREAKWATER_DATA_DIR || undefined,
    secret,
    issuer: settings.issuer,
    accessTokenTtl: settings.accessTokenTtl,
    refreshIdleTtl: settings.refreshIdleTtl,
    sessionMaxAge: settings.sessionMaxAge,
    refreshReuseGrace: settings.refreshReuseGrace,
    clockLeeway: settings.clockLeeway,
    allowedOrigins: Object.freeze([...settings.allowedOrigins]),
    cookieSecure,
    cookieSameSite: settings.cookieSameSite,
    cookieDomain: settings.cookieDomain,
    loginAccountLimit,
    loginIpLimit,
    refreshLimit,
    auditRetention: settings.auditRetention,
    trustProxy,
    logLevel,
    revocationSync,
    revocationPollInterval,
    revocationListenUrl,
    webDir: env.BREAKWATER_WEB_DIR || undefined,
    publicUrl: settings.publicUrl,
    smtpUrl,
    mailFrom: env.MAIL_FROM?.trim() || undefined,
    verificationTtl: settings.verificationTtl,
    passwordResetTtl: settings.passwordResetTtl,
    emailChangeTtl: settings.emailChangeTtl,
    signInCodeTtl: settings.signInCodeTtl,
    stepUpMaxAge: settings.stepUpMaxAge,
    webauthnRpId: settings.webauthnRpId,
    mailLimit: raw('MAIL_LIMIT') ?? DEFAULTS.mailLimit,
    requireEmailVerification,
  })
}
