import type { AccessTokenClaims } from '@breakwater/tokens'
import type { FastifyRequest } from 'fastify'
import { BreakwaterError } from '../errors.js'
import { type CookieSettings, readAccessCookie } from '../http/cookies.js'
import { assertSameSite } from '../http/csrf.js'
import type { Runtime } from '../runtime.js'
import { authenticateToken } from '../session/authenticate.js'

/** The verified session of a request. */
export interface AuthenticatedSession {
  readonly userId: string
  readonly sessionId: string
  readonly claims: AccessTokenClaims
  /** Where the access token came from; CSRF rules apply to `cookie` only. */
  readonly via: 'bearer' | 'cookie'
}

const DEFAULT_COOKIES: CookieSettings = {
  cookieSecure: 'auto',
  cookieSameSite: 'lax',
  cookieDomain: undefined,
  prefix: '/trpc',
  namespace: '',
}

const BEARER = /^Bearer +([^\s]+) *$/i

/**
 * The access token of a request: the Authorization header first, then the
 * access cookie (in secure mode only its `__Host-` name, SPEC §5).
 */
export function readAccessToken(
  request: FastifyRequest,
  cookies: Partial<CookieSettings> | boolean | 'auto' = 'auto',
): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = BEARER.exec(header)
    // A malformed Authorization header is an invalid token, not a missing one.
    return { token: match?.[1] ?? header, via: 'bearer' }
  }
  const settings: CookieSettings =
    typeof cookies === 'object'
      ? { ...DEFAULT_COOKIES, ...cookies }
      : { ...DEFAULT_COOKIES, cookieSecure: cookies }
  const cookie = readAccessCookie(request, settings)
  return cookie ? { token: cookie, via: 'cookie' } : undefined
}

function toSession(
  request: FastifyRequest,
  runtime: Runtime,
  mutation: boolean,
  via: 'bearer' | 'cookie',
  claims: AccessTokenClaims,
): AuthenticatedSession {
  if (mutation && via === 'cookie') assertSameSite(request, runtime.options, 'session')
  return { userId: claims.sub, sessionId: claims.sid, claims, via }
}

/**
 * The HTTP side of authentication: finds the token, lets the session layer
 * judge it, and applies the CSRF rule to cookie-authenticated mutations.
 */
export function authenticate(
  runtime: Runtime,
  request: FastifyRequest,
  mutation: boolean,
): AuthenticatedSession | Promise<AuthenticatedSession> {
  const found = readAccessToken(request, runtime.options)
  if (!found) throw new BreakwaterError('TOKEN_MISSING')
  const claims = authenticateToken(runtime, found.token)
  return claims instanceof Promise
    ? claims.then((verified) => toSession(request, runtime, mutation, found.via, verified))
    : toSession(request, runtime, mutation, found.via, claims)
}
