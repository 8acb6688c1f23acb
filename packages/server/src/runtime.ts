import { setMaxListeners } from 'node:events'
import path from 'node:path'
import { type Database, DEFAULT_DATA_DIR } from '@breakwater/db'
import {
  type AccessTokenClaims,
  type AccessTokenSigner,
  type AccessTokenVerifier,
  createAccessTokenSigner,
  createAccessTokenVerifier,
  type SecretBox,
} from '@breakwater/tokens'
import type { FastifyBaseLogger } from 'fastify'
import { type NewAuditEvent, recordAudit } from './audit.js'
import { createPasswordHasher, type PasswordHasher } from './guard/password.js'
import { RevocationSet } from './guard/revocation.js'
import { Keyring } from './keys/keyring.js'
import { resolveKeyEncryptionSecrets } from './keys/secret.js'
import { Mailer, outboxTransport, smtpTransport } from './mail/mailer.js'
import { startMaintenance } from './maintenance.js'
import { isDomainName, type ResolvedOptions } from './options.js'
import type { SeenSession } from './session/current.js'

/** Verified tokens kept so a repeat call skips the signature check (bounded; entries die with the token). */
const VERIFIED_CACHE_SIZE = 10_000

/** Everything one registration of the plugin holds, built once at start. */
export interface Runtime {
  readonly options: ResolvedOptions
  readonly database: Database
  readonly keyring: Keyring
  readonly signer: AccessTokenSigner
  readonly verifier: AccessTokenVerifier
  readonly revocations: RevocationSet
  readonly passwords: PasswordHasher
  /** The key-encryption secrets: seals keys, digests one-time tokens. */
  readonly secrets: SecretBox
  /** Sends the account mails in the background (SMTP or the outbox). */
  readonly mailer: Mailer
  /** Where links in mail point; the plugin fills it from `publicUrl` or its own address. */
  publicUrl(): string
  /** Who passkeys are bound to (SPEC §10): the RP ID, its name and the origins they may be used from. */
  relyingParty(): RelyingParty
  /** The last user and session rows seen per session (see `session/current.ts`). */
  readonly recentSessions: BoundedMap<string, SeenSession>
  /** Where background failures (audit, key reload, housekeeping) are reported. */
  readonly log: FastifyBaseLogger
  /** Milliseconds since the epoch: the one clock every decision of this instance reads. */
  clock(): number
  now(): Date
  /** Verifies an access token, from the cache of recently verified tokens when it can. */
  verifyAccessToken(token: string): AccessTokenClaims
  audit(event: NewAuditEvent): Promise<void>
  /** Aborted when the server starts closing: long-lived streams end on it, so close() does not wait. */
  readonly closing: AbortSignal
  /** Ends the streams (`closing`); the server then stops taking requests. */
  beginClose(): void
  close(): void
}

/**
 * How long a retired key and a revoked session must be remembered: until no
 * access token that depends on them can still be accepted.
 */
export function rememberSeconds(
  options: Pick<ResolvedOptions, 'accessTokenTtl' | 'clockLeeway' | 'keyReloadInterval'>,
): number {
  return options.accessTokenTtl + options.clockLeeway + options.keyReloadInterval
}

/** A Map that forgets its oldest entry past `limit` (a Map iterates in insertion order). */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #limit: number

  constructor(limit: number) {
    super()
    this.#limit = limit
  }

  override set(key: K, value: V): this {
    this.delete(key)
    if (this.size >= this.#limit) this.delete(this.keys().next().value as K)
    return super.set(key, value)
  }
}

/** The WebAuthn relying party of this server. */
export interface RelyingParty {
  readonly id: string
  readonly name: string
  readonly origins: readonly string[]
}

/**
 * The RP ID is `webauthnRpId`, else `publicUrl`'s host when it is a domain name,
 * else `localhost`. The origins are those of `publicUrl`, of the server itself and
 * `allowedOrigins`, kept when their host is the RP ID or under it (the only ones a
 * browser would sign for); with `localhost`, the server's own port on localhost too.
 */
export function resolveRelyingParty(options: ResolvedOptions, listening: string): RelyingParty {
  const publicHost =
    options.publicUrl === undefined ? undefined : new URL(options.publicUrl).hostname
  const id =
    options.webauthnRpId ??
    (publicHost !== undefined && isDomainName(publicHost) ? publicHost : 'localhost')
  const own = new URL(listening)
  const candidates = [
    ...(options.publicUrl === undefined ? [] : [new URL(options.publicUrl).origin]),
    own.origin,
    ...options.allowedOrigins,
  ]
  if (id === 'localhost')
    candidates.push(`${own.protocol}//localhost${own.port ? `:${own.port}` : ''}`)
  const origins = [...new Set(candidates)].filter((origin) => {
    const host = new URL(origin).hostname
    return host === id || host.endsWith(`.${id}`)
  })
  return Object.freeze({
    id,
    name: options.mail.appName ?? 'Breakwater',
    origins: Object.freeze(origins),
  })
}

export async function createRuntime(
  options: ResolvedOptions,
  log: FastifyBaseLogger,
  listeningOrigin: () => string = () => 'http://127.0.0.1',
): Promise<Runtime> {
  const database = options.database
  const clock = options.clock
  const secrets = resolveKeyEncryptionSecrets({ secret: options.secret, database })
  const keyring = await Keyring.open({
    database,
    alg: options.keyAlgorithm,
    retireAfterSeconds: rememberSeconds(options),
    reloadIntervalSeconds: options.keyReloadInterval,
    secrets: secrets.box,
    onReloadError: (error) =>
      log.warn({ err: error }, 'signing keys not reloaded; keeping the loaded set'),
  })
  if (keyring.legacyKeysSealed > 0) {
    // Sealed now, but older copies may linger in WAL segments and backups.
    log.warn(
      { sealed: keyring.legacyKeysSealed },
      'sealed signing keys an older version stored in clear; run `breakwater keys rotate` to retire them',
    )
  }
  const revocations = new RevocationSet({ blockSeconds: rememberSeconds(options), clock })
  await revocations.start(database)
  const passwords = await createPasswordHasher(options)
  const stopMaintenance = startMaintenance(database, options, log)
  const mailer = new Mailer({
    transport: options.mail.smtpUrl
      ? smtpTransport(options.mail.smtpUrl)
      : outboxTransport(
          options.mail.outboxDir ??
            path.join(
              database.dataDir ?? path.resolve(process.env.BREAKWATER_DATA_DIR || DEFAULT_DATA_DIR),
              'outbox',
            ),
        ),
    from: options.mail.from ?? 'Breakwater <no-reply@localhost>',
    log,
  })
  const tokenOptions = {
    issuer: options.issuer,
    audience: options.audience,
    keys: keyring,
    clock,
  }
  const signer = createAccessTokenSigner({ ...tokenOptions, ttl: options.accessTokenTtl })
  const verifier = createAccessTokenVerifier({ ...tokenOptions, clockLeeway: options.clockLeeway })

  const verified = new BoundedMap<string, AccessTokenClaims>(VERIFIED_CACHE_SIZE)
  function verifyAccessToken(token: string): AccessTokenClaims {
    const cached = verified.get(token)
    if (cached && cached.exp + options.clockLeeway > clock() / 1000) return cached
    const claims = verifier.verify(token)
    verified.set(token, claims)
    return claims
  }
  const recentSessions = new BoundedMap<string, SeenSession>(VERIFIED_CACHE_SIZE)
  // Every instance hears of every revocation within a second: forget what it saw.
  const stopForgetting = database.revocations.subscribe(({ sessionId }) =>
    recentSessions.delete(sessionId),
  )

  const closing = new AbortController()
  // One listener per open `sessions.watch` stream: no leak, however many.
  setMaxListeners(0, closing.signal)
  return Object.freeze({
    options,
    database,
    keyring,
    signer,
    verifier,
    revocations,
    passwords,
    secrets: secrets.box,
    mailer,
    publicUrl: () => options.publicUrl ?? listeningOrigin(),
    relyingParty: () => resolveRelyingParty(options, listeningOrigin()),
    recentSessions,
    log,
    clock,
    now: () => new Date(clock()),
    verifyAccessToken,
    audit: (event: NewAuditEvent) =>
      recordAudit(database, options.onAuditEvent, { occurredAt: new Date(clock()), ...event }, log),
    closing: closing.signal,
    beginClose: () => closing.abort(),
    close() {
      closing.abort()
      keyring.close()
      revocations.stop()
      passwords.close()
      mailer.close()
      stopMaintenance()
      stopForgetting()
      verified.clear()
      recentSessions.clear()
    },
  })
}
