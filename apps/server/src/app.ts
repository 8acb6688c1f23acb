import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase, type Database } from '@breakwater/db'
import { breakwater } from '@breakwater/server'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url))

export interface BuiltApp {
  app: FastifyInstance
  database: Database
}

/** Opens the database (migrating it), and builds the Fastify app with the plugin, health checks and the web app. */
export async function buildApp(
  config: Config,
  overrides: { logger?: FastifyServerOptions['logger'] } = {},
): Promise<BuiltApp> {
  const database = await createDatabase(config.databaseUrl, {
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
      loginAccountLimit: config.loginAccountLimit,
      loginIpLimit: config.loginIpLimit,
      refreshLimit: config.refreshLimit,
      auditRetention: config.auditRetention,
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
      await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false })
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
