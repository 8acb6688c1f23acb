import { COOKIE_NAMES, refreshPath } from '@breakwater/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResolvedOptions } from '../options.js'

export { COOKIE_NAMES }

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i

/**
 * Whether cookies carry `Secure` (and the `__Host-`/`__Secure-` prefixes) for
 * this request: always, except on plain HTTP to a loopback host, where a
 * browser would drop them; `cookieSecure` overrides.
 */
export function isSecureRequest(request: FastifyRequest, setting: boolean | 'auto'): boolean {
  if (setting !== 'auto') return setting
  return !(request.protocol === 'http' && LOOPBACK_HOST.test(request.headers.host ?? ''))
}

// In secure mode only the prefixed names count: a sibling host can plant an
// unprefixed cookie for our domain (cookie tossing), never a `__Host-` one.
function readCookie(
  request: FastifyRequest,
  names: { plain: string; secure: string },
  cookieSecure: boolean | 'auto',
): string | undefined {
  const name = isSecureRequest(request, cookieSecure) ? names.secure : names.plain
  const value = request.cookies[name]
  return value === undefined || value === '' ? undefined : value
}

export function readAccessCookie(
  request: FastifyRequest,
  cookieSecure: boolean | 'auto',
): string | undefined {
  return readCookie(request, COOKIE_NAMES.access, cookieSecure)
}

export function readRefreshCookie(
  request: FastifyRequest,
  cookieSecure: boolean | 'auto',
): string | undefined {
  return readCookie(request, COOKIE_NAMES.refresh, cookieSecure)
}

export interface IssuedTokens {
  accessToken: string
  refreshToken: string
  accessTokenExpiresAt: Date
  refreshTokenExpiresAt: Date
}

/** Writes both cookies with SPEC §5's attributes: the access one for every path, the refresh one for the refresh path only. */
function writeSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedOptions,
  access: { value: string; maxAge: number },
  refresh: { value: string; maxAge: number },
): void {
  const secure = isSecureRequest(request, options.cookieSecure)
  const names = secure ? 'secure' : 'plain'
  const common = { httpOnly: true, secure } as const
  reply.setCookie(COOKIE_NAMES.access[names], access.value, {
    ...common,
    sameSite: 'lax',
    path: '/',
    maxAge: access.maxAge,
  })
  reply.setCookie(COOKIE_NAMES.refresh[names], refresh.value, {
    ...common,
    sameSite: 'strict',
    path: refreshPath(options.prefix),
    maxAge: refresh.maxAge,
  })
}

/** Sets both session cookies (SPEC §5). */
export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedOptions,
  tokens: IssuedTokens,
  now: number,
): void {
  const refreshMaxAge = Math.max(
    0,
    Math.round((tokens.refreshTokenExpiresAt.getTime() - now) / 1000),
  )
  writeSessionCookies(
    request,
    reply,
    options,
    // The access cookie lives as long as the refresh cookie (SPEC §5): an
    // expired token still reaches logout and reads TOKEN_EXPIRED, so a missing
    // one can mean "no session here" and spare the client a refresh probe.
    { value: tokens.accessToken, maxAge: refreshMaxAge },
    { value: tokens.refreshToken, maxAge: refreshMaxAge },
  )
}

/** Clears both cookies on their own paths, empty with `Max-Age=0`. */
export function clearSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedOptions,
): void {
  writeSessionCookies(request, reply, options, { value: '', maxAge: 0 }, { value: '', maxAge: 0 })
}
