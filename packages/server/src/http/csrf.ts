import { CSRF_HEADER } from '@breakwater/protocol'
import type { FastifyRequest } from 'fastify'
import { BreakwaterError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'

export { CSRF_HEADER }

/** The server's own origin, as the browser would name it for this request. */
function ownOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host
  return host ? `${request.protocol}://${host}`.toLowerCase() : undefined
}

function isAllowed(origin: string, request: FastifyRequest, options: ResolvedOptions): boolean {
  return origin.toLowerCase() === ownOrigin(request) || options.allowedOrigins.has(origin)
}

/** The origin of a `Referer` URL, or undefined when it is not an http(s) URL. */
function refererOrigin(referer: string): string | undefined {
  try {
    const url = new URL(referer)
    return /^https?:$/.test(url.protocol) ? url.origin : undefined
  } catch {
    return undefined
  }
}

/** Where the request says it comes from is ours or allowed (or it says nothing). */
function comesFromAllowedOrigin(request: FastifyRequest, options: ResolvedOptions): boolean {
  const origin = request.headers.origin
  if (origin !== undefined) return isAllowed(origin, request, options)
  if (request.headers['sec-fetch-site'] === 'cross-site') return false
  // Some browsers send no Origin on same-origin requests; a Referer that names
  // another site still tells us it is not ours (SPEC §5).
  const referer = request.headers.referer
  if (referer === undefined) return true
  const from = refererOrigin(referer)
  return from !== undefined && isAllowed(from, request, options)
}

/**
 * SPEC §5's CSRF rule, the one place it lives. Every request that sets or
 * clears cookies, or that a cookie authenticates, passes here:
 * - `sign-in` (register, login: no session yet): refuse a foreign `Origin`
 *   (or, without one, `Sec-Fetch-Site: cross-site` or a foreign `Referer`),
 *   so a forged form cannot sign the victim into the attacker's account;
 * - `session` (every cookie-authenticated mutation, and logout): additionally
 *   `x-breakwater-csrf: 1`, which no cross-site form can send without a CORS
 *   preflight. Bearer requests carry no ambient credential and never come here.
 */
export function assertSameSite(
  request: FastifyRequest,
  options: ResolvedOptions,
  kind: 'sign-in' | 'session',
): void {
  if (kind === 'session' && request.headers[CSRF_HEADER] !== '1') {
    throw new BreakwaterError('CSRF_REJECTED', {
      message: `The ${CSRF_HEADER} header is required.`,
    })
  }
  if (!comesFromAllowedOrigin(request, options)) throw new BreakwaterError('CSRF_REJECTED')
}
