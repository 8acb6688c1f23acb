import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase, type Database } from '@breakwater/db'
import { breakwater, CSRF_HEADER } from '@breakwater/server'
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url))

export interface BuiltApp {
  app: FastifyInstance
  database: Database
}

const VARY_ORIGIN = /(^|,)\s*(origin|\*)\s*(,|$)/i

function addVaryOrigin(headers: Headers): void {
  if (!VARY_ORIGIN.test(headers.get('vary') ?? '')) headers.append('vary', 'Origin')
}

/**
 * CORS for a web app on another origin (docs/cross-origin.md): exactly the
 * ALLOWED_ORIGINS, with cookies (`credentials`), the anti-CSRF header allowed
 * in, and `Retry-After` readable, so a rate-limited client knows when to retry.
 * Any other origin gets no CORS header at all, so its preflight fails.
 */
export function corsOptions(config: Pick<Config, 'allowedOrigins'>): FastifyCorsOptions {
  const allowed = new Set(config.allowedOrigins)
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'authorization', CSRF_HEADER],
    exposedHeaders: ['retry-after'],
    // Seconds a browser may reuse a preflight (Chromium caps it at 7200).
    maxAge: 600,
  }
}

/** Opens the database (migrating it), and builds the Fastify app with the plugin, health checks and the web app. */
export async function buildApp(
  config: Config,
  overrides: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<BuiltApp> {
  const database = await createDatabase(config.databaseUrl, {
    schema: config.databaseSchema,
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    revocationSync: config.revocationSync,
    poll: { intervalMs: config.revocationPollInterval },
    ...(config.revocationListenUrl ? { listenUrl: config.revocationListenUrl } : {}),
  })
  const options: FastifyServerOptions = {
    logger: overrides.logger ?? loggerOptions(config.logLevel),
    // Fastify also takes a hop count here; its types only list the other forms.
    trustProxy: config.trustProxy as boolean | string,
    bodyLimit: 64 * 1024,
    // Fastify 5 closes idle keep-alive sockets on close and lets in-flight requests finish.
    forceCloseConnections: 'idle',
  }
  const app = Fastify(options)
  try {
    if (config.allowedOrigins.length > 0) {
      await app.register(fastifyCors, corsOptions(config))
      // tRPC's adapter answers with a fetch Response whose Vary (trpc-accept, accept)
      // replaces the one @fastify/cors set; without Origin in it, a cache could
      // hand one origin's CORS answer to another.
      app.addHook('onSend', async (_request, reply, payload) => {
        if (payload instanceof Response) addVaryOrigin(payload.headers)
        else {
          const vary = String(reply.getHeader('vary') ?? '')
          if (!VARY_ORIGIN.test(vary)) reply.header('vary', vary ? `${vary}, Origin` : 'Origin')
        }
        return payload
      })
    }
    await app.register(breakwater, {
      database,
      secret: config.secret,
      issuer: config.issuer,
      accessTokenTtl: config.accessTokenTtl,
      refreshIdleTtl: config.refreshIdleTtl,
      sessionMaxAge: config.sessionMaxAge,
      refreshReuseGrace: config.refreshReuseGrace,
      clockLeeway: config.clockLeeway,
      allowedOrigins: config.allowedOrigins,
      cookieSecure: config.cookieSecure,
      cookieSameSite: config.cookieSameSite,
      ...(config.cookieDomain !== undefined ? { cookieDomain: config.cookieDomain } : {}),
      loginAccountLimit: config.loginAccountLimit,
      loginIpLimit: config.loginIpLimit,
      refreshLimit: config.refreshLimit,
      auditRetention: config.auditRetention,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      mail: {
        ...(config.smtpUrl ? { smtpUrl: config.smtpUrl } : {}),
        ...(config.mailFrom ? { from: config.mailFrom } : {}),
      },
      verificationTtl: config.verificationTtl,
      passwordResetTtl: config.passwordResetTtl,
      emailChangeTtl: config.emailChangeTtl,
      signInCodeTtl: config.signInCodeTtl,
      stepUpMaxAge: config.stepUpMaxAge,
      webauthnRpId: config.webauthnRpId,
      mailLimit: config.mailLimit,
      requireEmailVerification: config.requireEmailVerification,
      onAuditEvent: (event) =>
        app.log.info(
          { audit: { type: event.type, userId: event.userId, sessionId: event.sessionId } },
          'audit',
        ),
    })
    app.get('/healthz', async () => ({ ok: true }))
    app.get('/readyz', async (_request, reply) => {
      try {
        await database.ping()
        return { ok: true }
      } catch {
        return reply.code(503).send({ ok: false, reason: 'DB_UNAVAILABLE' })
      }
    })
    const webDir = config.webDir ?? DEFAULT_WEB_DIR
    if (existsSync(path.join(webDir, 'index.html'))) {
      await app.register(fastifyStatic, {
        root: webDir,
        prefix: '/',
        wildcard: false,
        // Mailed links carry their token in the query: no page may pass it on as a Referer.
        setHeaders: (response) => response.setHeader('Referrer-Policy', 'no-referrer'),
      })
      app.setNotFoundHandler((request, reply) => {
        if (
          request.method === 'GET' &&
          !request.url.startsWith('/trpc') &&
          request.headers.accept?.includes('text/html')
        ) {
          return reply.sendFile('index.html')
        }
        return reply.code(404).send({ error: 'not found' })
      })
    } else {
      app.get('/', async () => ({
        name: 'breakwater',
        trpc: '/trpc',
        jwks: '/.well-known/jwks.json',
      }))
    }
  } catch (error) {
    await app.close().catch(() => {})
    await database.close()
    throw error
  }
  app.addHook('onClose', async () => database.close())
  return { app, database }
}
