import { availableParallelism } from 'node:os'
import type { Database } from '@breakwater/db'
import { MAX_CLOCK_LEEWAY_SECONDS, type SigningAlgorithm, toSeconds } from '@breakwater/tokens'
import type { AnyTRPCRouter } from '@trpc/server'
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify'
import type { AuditEvent } from './audit.js'
import type { BreakwaterHooks } from './hooks.js'
import type { MailTemplates } from './mail/templates.js'
import { findMount } from './router/mount.js'
import { BreakwaterSetupError } from './setup-error.js'

/** A duration: whole seconds, or a string such as `30s`, `15m`, `7d`. */
export type Duration = number | string

/** `max/window`: at most `max` events per sliding `window` (`5/15m`). */
export type RateLimit = string | { max: number; window: Duration }

/** Options of the Breakwater Fastify plugin; every one but `database` has a default. */
export interface BreakwaterOptions {
  /** From `createDatabase()` of `@breakwater/db`, migrated. */
  database: Database
  /** `iss` of access tokens. Default `breakwater`. */
  issuer?: string
  /** `aud` of access tokens. Default: the issuer. */
  audience?: string
  /** Where the tRPC router is mounted. Default `/trpc`. */
  prefix?: string
  /**
   * The router to serve: Breakwater's own by default, or a team's router that
   * holds Breakwater's (merged, or nested under any key; on Breakwater's tRPC
   * instance or the team's own through `createBreakwater(t)`).
   */
  router?: AnyTRPCRouter
  /**
   * The team's tRPC context function, for a router built on its own instance:
   * its procedures get exactly the context it returns. Required then.
   */
  createContext?: (opts: CreateFastifyContextOptions) => object | Promise<object>
  /**
   * SameSite of the session cookies. Default `lax` (the refresh cookie
   * `strict`). `none` lets a single-page app on another site call the API with
   * cookies (both cookies `None`, always `Secure`); see docs/cross-origin.md.
   */
  cookieSameSite?: 'lax' | 'strict' | 'none'
  /**
   * `Domain` of the session cookies, to share them with sibling hosts
   * (`example.com` for `app.` and `api.`). Default none: host-only `__Host-` cookies.
   */
  cookieDomain?: string
  accessTokenTtl?: Duration
  refreshIdleTtl?: Duration
  sessionMaxAge?: Duration
  refreshReuseGrace?: Duration
  clockLeeway?: Duration
  /** Origins, besides the server's own, whose cookie-authenticated mutations are accepted. */
  allowedOrigins?: readonly string[]
  /** `auto` (default): Secure cookies unless the request is plain HTTP to a loopback host. */
  cookieSecure?: boolean | 'auto'
  /** Failed logins per account. Default `5/15m`. */
  loginAccountLimit?: RateLimit
  /** Login and register attempts per client IP. Default `30/1m`. */
  loginIpLimit?: RateLimit
  /** Algorithm of newly generated signing keys. Default `EdDSA`. */
  keyAlgorithm?: SigningAlgorithm
  /** How often signing keys are re-read from the database. Default `30s`. */
  keyReloadInterval?: Duration
  /** Refresh-token rotations per session. Default `30/1m` (a client refreshes every `accessTokenTtl`). */
  refreshLimit?: RateLimit
  /** Password hashes computed at once; the rest queue. Default: cores − 1, at least 1. */
  maxConcurrentHashes?: number
  /**
   * Password checks allowed to wait for a hashing slot; past it the answer is
   * `RATE_LIMITED` (SPEC §6: never an unbounded queue). Default 64.
   */
  maxQueuedHashes?: number
  /**
   * The key-encryption secret(s) that seal signing keys and other secrets at
   * rest (AES-256-GCM): base64url of ≥ 32 random bytes. A list rotates it: the
   * first seals, every one opens. Required with PostgreSQL; on the embedded
   * database it is generated once into `<dataDir>/secret` (0600).
   */
  secret?: string | readonly string[]
  /** How long audit events are kept. Default `90d`. */
  auditRetention?: Duration
  /** Largest request body the plugin's routes accept, in bytes. Default 64 KiB. */
  bodyLimit?: number
  /** Milliseconds since the epoch. For tests; the default is `Date.now`. */
  clock?: () => number
  /** argon2id cost; OWASP's floor (m=19456 KiB, t=2, p=1) is the default and the minimum. */
  argon2?: { memoryCost?: number; timeCost?: number; parallelism?: number }
  /**
   * Called with every audit event after it is stored. May return a promise,
   * which the request does not wait for; a throw or a rejection is logged.
   */
  onAuditEvent?: (event: AuditEvent) => void | Promise<void>
  /** Code of the team's own around registration, sign-in and session end (see `BreakwaterHooks`). */
  hooks?: BreakwaterHooks
  /**
   * Where links in mail point (`<publicUrl>/verify-email?token=…`): the web app's
   * origin. Never taken from a request's Host header. Default: the server's own
   * listening address.
   */
  publicUrl?: string
  /** How mail leaves (SPEC §9). Default: files in `<dataDir>/outbox` (0600). */
  mail?: MailOptions
  /** Lifetime of an email-verification link. Default `24h`. */
  verificationTtl?: Duration
  /** Lifetime of a password-reset link. Default `30m`. */
  passwordResetTtl?: Duration
  /** Lifetime of an email-change link (sent to the new address). Default `30m`. */
  emailChangeTtl?: Duration
  /** Lifetime of a mailed sign-in code (5 attempts). Default `10m`. */
  signInCodeTtl?: Duration
  /** Mails per address (a flood of requests for one address sends a handful). Default `3/15m`. */
  mailLimit?: RateLimit
  /** Refuse the login of an unverified address with `EMAIL_NOT_VERIFIED`. Default `false`. */
  requireEmailVerification?: boolean
  /**
   * Step-up (SPEC §10): how recently the user must have proved a factor for the
   * procedures that change credentials (password, email, factors, deletion); older
   * answers `REAUTH_REQUIRED`. Default `10m`.
   */
  stepUpMaxAge?: Duration
  /**
   * The WebAuthn relying-party ID passkeys are bound to: the site's domain
   * (`example.com` serves `app.example.com` too). Default: the host of
   * `publicUrl`, else `localhost` (browsers refuse IP addresses, so open the
   * web app at http://localhost:<port> to use passkeys in development). The
   * origins a passkey may be used from are `publicUrl`'s, the server's own and
   * `allowedOrigins`, each only if its host is the RP ID or under it.
   */
  webauthnRpId?: string
}

/** How Breakwater sends mail. */
export interface MailOptions {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; unset: the outbox folder. */
  smtpUrl?: string
  /** `From` of every mail. Default `Breakwater <no-reply@localhost>`. */
  from?: string
  /** The product name in subjects and greetings. Default `Breakwater`. */
  appName?: string
  /** Where mail goes without `smtpUrl`. Default `<dataDir>/outbox` (`./.breakwater/outbox`). */
  outboxDir?: string
  /** Replace any of the built-in mails (plain-text and HTML parts). */
  templates?: Partial<MailTemplates>
}

const HOOK_NAMES = new Set([
  'beforeCreateUser',
  'afterCreateUser',
  'afterSignIn',
  'afterSessionEnd',
  'beforeDeleteUser',
])

export interface NormalizedRateLimit {
  readonly max: number
  readonly windowSeconds: number
}

/** The options after validation: defaults filled, durations in seconds, frozen. */
export interface ResolvedOptions {
  readonly database: Database
  readonly issuer: string
  readonly audience: string
  readonly prefix: string
  readonly router: AnyTRPCRouter | undefined
  /** Where Breakwater's router sits in `router` (`account`), `''` at the top. */
  readonly namespace: string
  readonly createContext: BreakwaterOptions['createContext']
  readonly cookieSameSite: 'lax' | 'strict' | 'none'
  readonly cookieDomain: string | undefined
  readonly hooks: BreakwaterHooks
  readonly publicUrl: string | undefined
  readonly mail: MailOptions
  readonly verificationTtl: number
  readonly passwordResetTtl: number
  readonly emailChangeTtl: number
  readonly signInCodeTtl: number
  readonly stepUpMaxAge: number
  readonly webauthnRpId: string | undefined
  readonly mailLimit: NormalizedRateLimit
  readonly requireEmailVerification: boolean
  readonly accessTokenTtl: number
  readonly refreshIdleTtl: number
  readonly sessionMaxAge: number
  readonly refreshReuseGrace: number
  readonly clockLeeway: number
  readonly allowedOrigins: ReadonlySet<string>
  readonly cookieSecure: boolean | 'auto'
  readonly loginAccountLimit: NormalizedRateLimit
  readonly loginIpLimit: NormalizedRateLimit
  readonly keyAlgorithm: SigningAlgorithm
  readonly keyReloadInterval: number
  readonly refreshLimit: NormalizedRateLimit
  readonly maxConcurrentHashes: number
  readonly maxQueuedHashes: number
  readonly secret: readonly string[] | undefined
  readonly auditRetention: number
  readonly bodyLimit: number
  readonly clock: () => number
  readonly argon2: {
    readonly memoryCost: number
    readonly timeCost: number
    readonly parallelism: number
  }
  readonly onAuditEvent: BreakwaterOptions['onAuditEvent']
}

const DOMAIN_NAME =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** A host name that is not an IP address: what a WebAuthn RP ID must be. */
export function isDomainName(value: string): boolean {
  return DOMAIN_NAME.test(value) && !/^[\d.]+$/.test(value)
}

/** OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1. */
export const ARGON2_FLOOR = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 })

export const DEFAULTS = Object.freeze({
  issuer: 'breakwater',
  prefix: '/trpc',
  accessTokenTtl: '15m',
  refreshIdleTtl: '7d',
  sessionMaxAge: '30d',
  refreshReuseGrace: '10s',
  clockLeeway: '5s',
  loginAccountLimit: '5/15m',
  loginIpLimit: '30/1m',
  refreshLimit: '30/1m',
  keyReloadInterval: '30s',
  auditRetention: '90d',
  verificationTtl: '24h',
  passwordResetTtl: '30m',
  emailChangeTtl: '30m',
  signInCodeTtl: '10m',
  stepUpMaxAge: '10m',
  mailLimit: '3/15m',
  bodyLimit: 64 * 1024,
  maxQueuedHashes: 64,
})

/** @internal */
export class OptionError extends BreakwaterSetupError {
  /** The message without the package prefix. */
  readonly detail: string

  constructor(message: string, problems?: readonly OptionProblem[]) {
    super('OPTION_INVALID', message, problems)
    this.detail = message
  }
}

function duration(value: Duration | undefined, fallback: string, name: string, min = 1): number {
  let seconds: number
  try {
    seconds = toSeconds(value ?? fallback, name)
  } catch (error) {
    throw new OptionError((error as Error).message)
  }
  if (seconds < min) throw new OptionError(`${name} must be at least ${min}s`)
  return seconds
}

/** Parses `5/15m` (or `{ max, window }`) into a limit. */
export function parseRateLimit(value: RateLimit, name: string): NormalizedRateLimit {
  if (typeof value === 'object' && value !== null) {
    if (!Number.isInteger(value.max) || value.max < 1)
      throw new OptionError(`${name}.max must be a whole number ≥ 1`)
    return Object.freeze({
      max: value.max,
      windowSeconds: duration(value.window, '', `${name}.window`),
    })
  }
  const match = typeof value === 'string' ? /^(\d{1,6})\/(.+)$/.exec(value.trim()) : null
  if (!match || Number(match[1]) < 1) {
    throw new OptionError(
      `${name} must look like 5/15m (attempts per window), got ${JSON.stringify(value)}`,
    )
  }
  return Object.freeze({ max: Number(match[1]), windowSeconds: duration(match[2], '', name) })
}

function normalizeOrigin(origin: string): string {
  try {
    const url = new URL(origin)
    if (url.origin === 'null' || !/^https?:$/.test(url.protocol)) throw new Error()
    return url.origin
  } catch {
    throw new OptionError(`allowedOrigins: ${JSON.stringify(origin)} is not an http(s) origin`)
  }
}

/** One problem with one option: its name, and what is wrong in words that quote no secret. */
export interface OptionProblem {
  readonly option: string
  readonly message: string
}

/** The options a server reads from its environment; everything but the runtime objects. */
export type BreakwaterSettings = Omit<
  BreakwaterOptions,
  'database' | 'router' | 'onAuditEvent' | 'clock' | 'createContext' | 'hooks' | 'mail'
>

/**
 * The one validation of Breakwater's options: every problem at once, each
 * naming its option, and the resolved values (defaults filled, durations in
 * seconds). The plugin calls it at registration; a server that reads its
 * environment calls it too and renames the options to its variables, so a
 * duration or a limit is parsed by this code alone.
 */
export function checkOptions(options: BreakwaterSettings): {
  settings: Omit<
    ResolvedOptions,
    | 'database'
    | 'router'
    | 'namespace'
    | 'onAuditEvent'
    | 'clock'
    | 'createContext'
    | 'hooks'
    | 'mail'
  >
  problems: OptionProblem[]
} {
  const problems: OptionProblem[] = []
  const field = <T>(option: string, fallback: T, compute: () => T): T => {
    try {
      return compute()
    } catch (error) {
      if (!(error instanceof OptionError)) throw error
      const { detail } = error
      problems.push({
        option,
        message: detail.startsWith(`${option}: `)
          ? detail.slice(option.length + 2)
          : detail.startsWith(`${option} `)
            ? detail.slice(option.length + 1)
            : detail,
      })
      return fallback
    }
  }
  const nonEmpty = (name: string, value: unknown) => {
    if (typeof value !== 'string' || value.length === 0)
      throw new OptionError(`${name} must be a non-empty string`)
    return value
  }
  const wholeNumber = (name: string, value: number, min: number, unit = '') => {
    if (!Number.isInteger(value) || value < min)
      throw new OptionError(`${name} must be a whole number${unit} ≥ ${min}`)
    return value
  }
  const seconds = (name: keyof BreakwaterSettings & keyof typeof DEFAULTS, min = 1) =>
    field(name, toSeconds(DEFAULTS[name] as string, name), () =>
      duration(options[name] as Duration | undefined, DEFAULTS[name] as string, name, min),
    )
  const limit = (name: 'loginAccountLimit' | 'loginIpLimit' | 'refreshLimit' | 'mailLimit') =>
    field(name, parseRateLimit(DEFAULTS[name], name), () =>
      parseRateLimit(options[name] ?? DEFAULTS[name], name),
    )

  const issuer = field('issuer', DEFAULTS.issuer, () =>
    nonEmpty('issuer', options.issuer ?? DEFAULTS.issuer),
  )
  const audience = field('audience', issuer, () => nonEmpty('audience', options.audience ?? issuer))
  const prefix = field('prefix', DEFAULTS.prefix, () => {
    const value = options.prefix ?? DEFAULTS.prefix
    if (typeof value !== 'string' || !/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(value))
      throw new OptionError(`prefix must be a path such as /trpc, got ${JSON.stringify(value)}`)
    return value
  })
  const clockLeeway = field('clockLeeway', 5, () => {
    const value = duration(options.clockLeeway, DEFAULTS.clockLeeway, 'clockLeeway', 0)
    if (value > MAX_CLOCK_LEEWAY_SECONDS)
      throw new OptionError(`clockLeeway must be at most ${MAX_CLOCK_LEEWAY_SECONDS}s`)
    return value
  })
  const accessTokenTtl = seconds('accessTokenTtl')
  const refreshIdleTtl = seconds('refreshIdleTtl')
  const sessionMaxAge = seconds('sessionMaxAge')
  const refreshReuseGrace = seconds('refreshReuseGrace', 0)
  if (refreshIdleTtl <= accessTokenTtl)
    problems.push({ option: 'refreshIdleTtl', message: 'must be longer than accessTokenTtl' })
  if (sessionMaxAge < refreshIdleTtl)
    problems.push({ option: 'sessionMaxAge', message: 'must be at least refreshIdleTtl' })
  const cookieSecure = field<boolean | 'auto'>('cookieSecure', 'auto', () => {
    const value = options.cookieSecure ?? 'auto'
    if (value !== 'auto' && typeof value !== 'boolean')
      throw new OptionError('cookieSecure must be true, false or "auto"')
    return value
  })
  const keyAlgorithm = field<SigningAlgorithm>('keyAlgorithm', 'EdDSA', () => {
    const value = options.keyAlgorithm ?? 'EdDSA'
    if (value !== 'EdDSA' && value !== 'ES256')
      throw new OptionError('keyAlgorithm must be EdDSA or ES256')
    return value
  })
  // One core stays with the thread that answers every authenticated call.
  const defaultHashes = Math.max(1, availableParallelism() - 1)
  const maxConcurrentHashes = field('maxConcurrentHashes', defaultHashes, () =>
    wholeNumber('maxConcurrentHashes', options.maxConcurrentHashes ?? defaultHashes, 1),
  )
  const maxQueuedHashes = field('maxQueuedHashes', DEFAULTS.maxQueuedHashes, () =>
    wholeNumber('maxQueuedHashes', options.maxQueuedHashes ?? DEFAULTS.maxQueuedHashes, 1),
  )
  const bodyLimit = field('bodyLimit', DEFAULTS.bodyLimit, () =>
    wholeNumber('bodyLimit', options.bodyLimit ?? DEFAULTS.bodyLimit, 1024, ' of bytes'),
  )
  const secret = field('secret', undefined, () => {
    if (options.secret === undefined) return undefined
    const list = [options.secret].flat()
    if (list.length === 0 || list.some((item) => typeof item !== 'string'))
      throw new OptionError('secret must be a string or a non-empty list of strings')
    return Object.freeze(list)
  })
  const argon2 = { ...ARGON2_FLOOR, ...options.argon2 }
  for (const [name, floor] of Object.entries(ARGON2_FLOOR)) {
    const value = argon2[name as keyof typeof argon2]
    if (!Number.isInteger(value) || value < floor)
      problems.push({ option: `argon2.${name}`, message: `must be ≥ ${floor} (OWASP)` })
  }
  const allowedOrigins = field('allowedOrigins', new Set<string>(), () => {
    if (options.allowedOrigins !== undefined && !Array.isArray(options.allowedOrigins))
      throw new OptionError('allowedOrigins must be a list of origins')
    return new Set((options.allowedOrigins ?? []).map(normalizeOrigin))
  })
  const cookieSameSite = field<'lax' | 'strict' | 'none'>('cookieSameSite', 'lax', () => {
    const value = options.cookieSameSite ?? 'lax'
    if (value !== 'lax' && value !== 'strict' && value !== 'none')
      throw new OptionError('cookieSameSite must be lax, strict or none')
    if (value === 'none' && cookieSecure === false)
      throw new OptionError(
        'cookieSameSite none needs Secure cookies: leave cookieSecure on auto or true',
      )
    return value
  })
  const cookieDomain = field<string | undefined>('cookieDomain', undefined, () => {
    const value = options.cookieDomain
    if (value === undefined || value === '') return undefined
    // A host name (no scheme, port or path): what the Domain attribute takes.
    if (
      typeof value !== 'string' ||
      !/^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
        value,
      )
    )
      throw new OptionError(
        `cookieDomain must be a host name such as example.com, got ${JSON.stringify(String(value).slice(0, 80))}`,
      )
    return value.replace(/^\./, '').toLowerCase()
  })
  const publicUrl = field<string | undefined>('publicUrl', undefined, () => {
    if (options.publicUrl === undefined || options.publicUrl === '') return undefined
    try {
      const url = new URL(String(options.publicUrl))
      if (!/^https?:$/.test(url.protocol)) throw new Error()
      return url.href.replace(/\/+$/, '')
    } catch {
      throw new OptionError('publicUrl must be an http(s) URL such as https://app.example.com')
    }
  })
  const webauthnRpId = field<string | undefined>('webauthnRpId', undefined, () => {
    const value = options.webauthnRpId
    if (value === undefined || value === '') return undefined
    if (typeof value !== 'string' || !isDomainName(value))
      throw new OptionError(
        `webauthnRpId must be a domain name such as example.com (not an IP address or a URL), got ${JSON.stringify(String(value).slice(0, 80))}`,
      )
    return value.toLowerCase()
  })
  const requireEmailVerification = field('requireEmailVerification', false, () => {
    const value = options.requireEmailVerification ?? false
    if (typeof value !== 'boolean')
      throw new OptionError('requireEmailVerification must be true or false')
    return value
  })
  return {
    problems,
    settings: {
      publicUrl,
      verificationTtl: seconds('verificationTtl'),
      passwordResetTtl: seconds('passwordResetTtl'),
      emailChangeTtl: seconds('emailChangeTtl'),
      signInCodeTtl: seconds('signInCodeTtl'),
      stepUpMaxAge: seconds('stepUpMaxAge'),
      webauthnRpId,
      mailLimit: limit('mailLimit'),
      requireEmailVerification,
      cookieSameSite,
      cookieDomain,
      issuer,
      audience,
      prefix,
      accessTokenTtl,
      refreshIdleTtl,
      sessionMaxAge,
      refreshReuseGrace,
      clockLeeway,
      allowedOrigins,
      cookieSecure,
      loginAccountLimit: limit('loginAccountLimit'),
      loginIpLimit: limit('loginIpLimit'),
      keyAlgorithm,
      keyReloadInterval: seconds('keyReloadInterval'),
      refreshLimit: limit('refreshLimit'),
      maxConcurrentHashes,
      maxQueuedHashes,
      secret,
      auditRetention: seconds('auditRetention'),
      bodyLimit,
      argon2: Object.freeze(argon2),
    },
  }
}

/**
 * Validates the plugin options once, at registration, and freezes the result.
 * A problem rejects `register` with a {@link BreakwaterSetupError} whose
 * message names the option and starts with `@breakwater/server:`.
 */
export function resolveOptions(options: BreakwaterOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new OptionError('options are required')
  const database = options.database
  if (typeof database !== 'object' || database === null || !('db' in database)) {
    throw new OptionError('database must be the object createDatabase() returns')
  }
  const { settings, problems } = checkOptions(options)
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') problems.push({ option: 'clock', message: 'must be a function' })
  if (options.onAuditEvent !== undefined && typeof options.onAuditEvent !== 'function')
    problems.push({ option: 'onAuditEvent', message: 'must be a function' })
  if (options.mail !== undefined && (typeof options.mail !== 'object' || options.mail === null))
    problems.push({ option: 'mail', message: 'must be an object' })
  else if (
    options.mail?.smtpUrl !== undefined &&
    !/^smtps?:\/\/[^\s]+$/.test(String(options.mail.smtpUrl))
  )
    problems.push({ option: 'mail.smtpUrl', message: 'must start with smtp:// or smtps://' })
  if (options.createContext !== undefined && typeof options.createContext !== 'function')
    problems.push({ option: 'createContext', message: 'must be a function' })
  const hooks = options.hooks ?? {}
  for (const [name, hook] of Object.entries(hooks)) {
    if (!HOOK_NAMES.has(name)) problems.push({ option: `hooks.${name}`, message: 'is not a hook' })
    else if (hook !== undefined && typeof hook !== 'function')
      problems.push({ option: `hooks.${name}`, message: 'must be a function' })
  }
  let namespace = ''
  if (options.router !== undefined) {
    try {
      namespace = findMount(options.router, options.createContext !== undefined).namespace
    } catch (error) {
      if (!(error instanceof OptionError)) throw error
      problems.push({ option: 'router', message: error.detail.replace(/^router /, '') })
    }
  }
  const [first] = problems
  if (first) throw new OptionError(`${first.option} ${first.message}`, problems)
  return Object.freeze({
    ...settings,
    database,
    router: options.router,
    namespace,
    createContext: options.createContext,
    clock,
    onAuditEvent: options.onAuditEvent,
    hooks: Object.freeze({ ...hooks }),
    mail: Object.freeze({ ...options.mail }),
  })
}
