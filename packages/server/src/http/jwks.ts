import { JWKS_PATH } from '@breakwater/protocol'
import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../runtime.js'

export { JWKS_PATH }

/**
 * Serves the public keys. Short caching: a new key is published one rotation
 * before it signs, so a minute of staleness never strands a verifier.
 */
export function registerJwksRoute(fastify: FastifyInstance, runtime: Runtime): void {
  fastify.get(JWKS_PATH, async (_request, reply) => {
    reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'public, max-age=60')
    return runtime.keyring.keySet.jwksJson()
  })
}
