import fastifyCookie from '@fastify/cookie'
import type { AnyTRPCRouter } from '@trpc/server'
import {
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
  fastifyTRPCPlugin,
} from '@trpc/server/adapters/fastify'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { breakwaterErrorOf } from './errors.js'
import type { AuthenticatedSession } from './guard/authenticate.js'
import type { BreakwaterUser } from './http/guard.js'
import { registerJwksRoute } from './http/jwks.js'
import { type BreakwaterOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { breakwaterRouter } from './router/index.js'
import { createRuntime, type Runtime } from './runtime.js'
import { BOUND, type Bound, type BreakwaterContext } from './trpc.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified session, set once a protected procedure has authenticated the request. */
    breakwaterSession: AuthenticatedSession | null
    /** The session's user, set by `sessionGuard({ user: true })`. */
    breakwaterUser: BreakwaterUser | null
  }
  interface FastifyInstance {
    /** @internal the plugin's services. */
    breakwater: Runtime
  }
}

async function breakwaterPlugin(
  fastify: FastifyInstance,
  options: BreakwaterOptions,
): Promise<void> {
  const resolved = resolveOptions(options)
  // Links in mail point at the configured public URL, else at this server's own
  // listening address: never at a request's Host header, which a client chooses.
  const runtime = await createRuntime(resolved, fastify.log, () => {
    const address = fastify.server.address()
    return typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : 'http://127.0.0.1'
  })
  fastify.decorate('breakwater', runtime)
  fastify.decorateRequest('breakwaterSession', null)
  fastify.decorateRequest('breakwaterUser', null)
  // Before the server stops accepting: an open `sessions.watch` stream is a request that
  // never finishes by itself, and close() waits for every request. Ending a stream leaves
  // its keep-alive socket idle only after close() swept the idle ones, and it would hold
  // the server until its keep-alive timeout: sweep again until the server is closed.
  let sweeper: NodeJS.Timeout | undefined
  fastify.addHook('preClose', async () => {
    runtime.beginClose()
    sweeper = setInterval(() => fastify.server.closeIdleConnections?.(), 50)
    sweeper.unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(sweeper)
    runtime.close()
  })

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(fastifyCookie)
  registerJwksRoute(fastify, runtime)

  const router: AnyTRPCRouter = resolved.router ?? breakwaterRouter
  // In a child context, so the body limit holds for our routes whatever the
  // embedding app's Fastify allows, and touches none of its own routes.
  await fastify.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.bodyLimit = Math.min(route.bodyLimit ?? resolved.bodyLimit, resolved.bodyLimit)
    })
    await scope.register(fastifyTRPCPlugin, {
      prefix: resolved.prefix,
      trpcOptions: {
        router,
        createContext: contextFactory(resolved, runtime),
        responseMeta({ errors }) {
          const retryAfter = errors
            .map((error) => breakwaterErrorOf(error)?.retryAfter)
            .find((value) => value !== undefined)
          return retryAfter === undefined
            ? {}
            : { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) } }
        },
      } satisfies FastifyTRPCPluginOptions<AnyTRPCRouter>['trpcOptions'],
    })
  })
}

/**
 * The context of each call: Breakwater's own (`req`, `res`, `runtime`), or
 * exactly what the team's `createContext` returns, with Breakwater's part
 * under a symbol its types never see.
 */
function contextFactory(
  options: ResolvedOptions,
  runtime: Runtime,
): (opts: CreateFastifyContextOptions) => object | Promise<object> {
  const team = options.createContext
  if (team === undefined) {
    return ({ req, res }): BreakwaterContext & { [BOUND]: Bound } => {
      const bound = { req, res, runtime }
      return { req, res, runtime, [BOUND]: bound }
    }
  }
  return async (opts) => {
    const context = await team(opts)
    return { ...context, [BOUND]: { req: opts.req, res: opts.res, runtime } }
  }
}

/**
 * The Breakwater Fastify plugin: registers `@fastify/cookie`, mounts the tRPC
 * router at `prefix` (`/trpc`), serves `/.well-known/jwks.json`, and keeps
 * signing keys and the revocation set of this instance.
 *
 * @example
 * const database = await createDatabase(process.env.DATABASE_URL)
 * await app.register(breakwater, { database, router: appRouter })
 */
export const breakwater: FastifyPluginAsync<BreakwaterOptions> = fp(breakwaterPlugin, {
  name: '@breakwater/server',
  fastify: '5.x',
})
