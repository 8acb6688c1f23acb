// The team's API: its Fastify app with CORS for its single-page app, Breakwater's
// plugin serving the team's router at /api, and a plain route guarded by Breakwater.
import type { Database } from '@breakwater/db'
import { breakwater, CSRF_HEADER, sessionGuard } from '@breakwater/server'
import cors from '@fastify/cors'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TeamDatabase } from './db/connect.js'
import { findProfile, insertProfile } from './db/queries.js'
import { appRouter } from './router.js'
import { contextFor } from './trpc.js'

export const API_PREFIX = '/api'

export interface ApiOptions {
  team: TeamDatabase
  /** From `createDatabase(team.shared)`, migrated. */
  breakwater: Database
  /** Breakwater's key-encryption secret (required on a shared connection). */
  secret: string | undefined
  /** The single-page app's origin: CORS and Breakwater's CSRF rule both let it in. */
  spaOrigin: string
  logger?: FastifyServerOptions['logger']
}

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const { team } = options
  const app = Fastify({ logger: options.logger ?? false })

  // Before the routes: the SPA on another port calls with cookies (credentials) and
  // sends the CSRF header on mutations; the client reads Retry-After on RATE_LIMITED.
  await app.register(cors, {
    origin: [options.spaOrigin],
    credentials: true,
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['content-type', 'authorization', CSRF_HEADER],
    exposedHeaders: ['retry-after'],
    maxAge: 600,
  })

  await app.register(breakwater, {
    database: options.breakwater,
    secret: options.secret,
    router: appRouter,
    createContext: contextFor(team.db),
    prefix: API_PREFIX,
    allowedOrigins: [options.spaOrigin],
    hooks: {
      // Inside the registration transaction: `transaction` is not qualified with
      // Breakwater's schema, so `profiles` is the team's `public.profiles`. A throw here
      // rolls back the user too.
      afterCreateUser: async (user, { transaction }) => {
        await insertProfile(transaction, { user_id: user.id, company: String(user.fields.company) })
      },
    },
    onAuditEvent: async (event) => {
      app.log.info({ audit: event.type }, 'breakwater audit event')
    },
  })

  // A download outside tRPC, with the verdicts of a protected procedure: 401 and
  // `error.data.reason` before the handler runs.
  app.get<{ Params: { name: string } }>(
    '/files/:name',
    { preHandler: sessionGuard() },
    async (request, reply) => {
      const { name } = request.params
      if (!/^[\w.-]{1,64}$/.test(name)) return reply.code(400).send({ error: 'bad file name' })
      const userId = request.breakwaterSession!.userId
      const profile = await findProfile(team.db, userId)
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(`${name}: the quarterly report of ${profile?.company ?? 'nobody'} for ${userId}\n`)
    },
  )
  return app
}
