import type { FastifyRequest } from 'fastify'
import { BreakwaterError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'

/** The header the client sends on cookie-authenticated mutations (SPEC §5). */
export const CSRF_HEADER = 'x-breakwater-csrf'

/** The server's own origin, as the browser would name it for this request. */
function ownOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host
  return host ? `${request.protocol}://${host}`.toLowerCase() : undefined
}

function isAllowedOrigin(request: FastifyRequest, options: ResolvedOptions): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true
  if (origin.toLowerCase() === ownOrigin(request)) return true
  return options.allowedOrigins.has(origin)
}

/**
 * Cookie-authenticated mutations need `x-breakwater-csrf: 1`, which no
 * cross-site form can send without a CORS preflight, and an `Origin`, when
 * present, that is ours or allowed. Bearer requests carry no ambient
 * credential and need neither.
 */
export function assertCookieMutationAllowed(
  request: FastifyRequest,
  options: ResolvedOptions,
): void {
  if (request.headers[CSRF_HEADER] !== '1') {
    throw new BreakwaterError('CSRF_REJECTED', {
      message: `The ${CSRF_HEADER} header is required.`,
    })
  }
  if (!isAllowedOrigin(request, options)) throw new BreakwaterError('CSRF_REJECTED')
}

/**
 * Login and register set cookies without needing one (there is no session
 * yet), so they only refuse a foreign `Origin` or a cross-site fetch: a
 * forged form must not sign the victim into the attacker's account.
 */
export function assertNotCrossSite(request: FastifyRequest, options: ResolvedOptions): void {
  if (request.headers['sec-fetch-site'] === 'cross-site') throw new BreakwaterError('CSRF_REJECTED')
  if (!isAllowedOrigin(request, options)) throw new BreakwaterError('CSRF_REJECTED')
}
