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

/**
 * The foreign origin a request comes from, `''` when it says so without
 * naming one, or `undefined` when it is ours or allowed (or says nothing).
 */
function foreignOrigin(request: FastifyRequest, options: ResolvedOptions): string | undefined {
  const origin = request.headers.origin
  if (origin !== undefined) return isAllowed(origin, request, options) ? undefined : origin
  if (request.headers['sec-fetch-site'] === 'cross-site') return ''
  // Some browsers send no Origin on same-origin requests; a Referer that names
  // another site still tells us it is not ours (SPEC §5).
  const referer = request.headers.referer
  if (referer === undefined) return undefined
  const from = refererOrigin(referer)
  return from !== undefined && isAllowed(from, request, options) ? undefined : (from ?? '')
}

/**
 * Says why, so a developer setting up a SPA on another port or site (or
 * behind a dev proxy) knows what to change. Names only an origin, never a
 * header value that could carry anything else.
 */
function refusal(origin: string, request: FastifyRequest): string {
  let from: URL | undefined
  try {
    from = origin === '' ? undefined : new URL(origin)
  } catch {
    from = undefined
  }
  if (from === undefined || !/^https?:$/.test(from.protocol))
    return 'The request was refused: it comes from another site.'
  const shown = from.origin.slice(0, 100)
  const ownHost = (request.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  if (from.hostname.replace(/^\[|\]$/g, '') === ownHost) {
    return `The request was refused: origin ${shown} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); behind a dev proxy, keep the Host header (Vite: changeOrigin: false).`
  }
  return `The request was refused: cross-site origin ${shown} is not allowed. Add it to allowedOrigins (ALLOWED_ORIGINS); cookies across sites also need cookieSameSite: 'none' (COOKIE_SAMESITE=none).`
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
  const foreign = foreignOrigin(request, options)
  if (foreign !== undefined)
    throw new BreakwaterError('CSRF_REJECTED', { message: refusal(foreign, request) })
}
