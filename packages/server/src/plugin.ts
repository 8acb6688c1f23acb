import fastifyCookie from '@fastify/cookie'
import type { AnyTRPCRouter } from '@trpc/server'
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { breakwaterErrorOf } from './errors.js'
import type { AuthenticatedSession } from './guard/authenticate.js'
import { registerJwksRoute } from './http/jwks.js'
import { type BreakwaterOptions, resolveOptions } from './options.js'
import { breakwaterRouter } from './router/index.js'
import { createRuntime, type Runtime } from './runtime.js'
import type { BreakwaterContext } from './trpc.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified session, set once a protected procedure has authenticated the request. */
    breakwaterSession: AuthenticatedSession | null
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
  const runtime = await createRuntime(resolved, fastify.log)
  fastify.decorate('breakwater', runtime)
  fastify.decorateRequest('breakwaterSession', null)
  fastify.addHook('onClose', async () => runtime.close())

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
        createContext: ({ req, res }): BreakwaterContext => ({ req, res, runtime }),
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
