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
export function isSecureRequest(
  request: FastifyRequest,
  setting: boolean | 'auto',
  sameSite: 'lax' | 'strict' | 'none' = 'lax',
): boolean {
  // SameSite=None cookies are refused without Secure; browsers accept Secure
  // cookies from http://localhost, so even local development keeps them.
  if (setting !== 'auto' || sameSite === 'none') return setting !== false
  return !(request.protocol === 'http' && LOOPBACK_HOST.test(request.headers.host ?? ''))
}

/** The cookie settings a request is read and answered with. */
export type CookieSettings = Pick<
  ResolvedOptions,
  'cookieSecure' | 'cookieSameSite' | 'cookieDomain' | 'prefix' | 'namespace'
>

// A `Domain` cookie cannot carry the `__Host-` prefix (which forbids one).
function cookieName(
  which: 'access' | 'refresh',
  secure: boolean,
  settings: CookieSettings,
): string {
  if (!secure) return COOKIE_NAMES[which].plain
  return settings.cookieDomain !== undefined
    ? `__Secure-${COOKIE_NAMES[which].plain}`
    : COOKIE_NAMES[which].secure
}

// In secure mode only the prefixed names count: a sibling host can plant an
// unprefixed cookie for our domain (cookie tossing), never a `__Host-` one.
function readCookie(
  request: FastifyRequest,
  which: 'access' | 'refresh',
  settings: CookieSettings,
): string | undefined {
  const secure = isSecureRequest(request, settings.cookieSecure, settings.cookieSameSite)
  const value = request.cookies[cookieName(which, secure, settings)]
  return value === undefined || value === '' ? undefined : value
}

export function readAccessCookie(
  request: FastifyRequest,
  settings: CookieSettings,
): string | undefined {
  return readCookie(request, 'access', settings)
}

export function readRefreshCookie(
  request: FastifyRequest,
  settings: CookieSettings,
): string | undefined {
  return readCookie(request, 'refresh', settings)
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
  refresh: { value: string; maxAge: number } | undefined,
): void {
  const sameSite = options.cookieSameSite
  const secure = isSecureRequest(request, options.cookieSecure, sameSite)
  const common = {
    httpOnly: true,
    secure,
    ...(options.cookieDomain !== undefined ? { domain: options.cookieDomain } : {}),
  } as const
  reply.setCookie(cookieName('access', secure, options), access.value, {
    ...common,
    sameSite,
    path: '/',
    maxAge: access.maxAge,
  })
  if (refresh === undefined) return
  // Strict unless the app is on another site, which must send it cross-site.
  reply.setCookie(cookieName('refresh', secure, options), refresh.value, {
    ...common,
    sameSite: sameSite === 'none' ? 'none' : 'strict',
    path: refreshPath(options.prefix, options.namespace),
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

/**
 * Replaces the access cookie alone (step-up: a fresh `auth_time` for the same
 * session), for as long as the session's refresh cookie lives.
 */
export function setAccessCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedOptions,
  tokens: { accessToken: string; refreshTokenExpiresAt: Date },
  now: number,
): void {
  const maxAge = Math.max(0, Math.round((tokens.refreshTokenExpiresAt.getTime() - now) / 1000))
  writeSessionCookies(request, reply, options, { value: tokens.accessToken, maxAge }, undefined)
}

/** Clears both cookies on their own paths, empty with `Max-Age=0`. */
export function clearSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ResolvedOptions,
): void {
  writeSessionCookies(request, reply, options, { value: '', maxAge: 0 }, { value: '', maxAge: 0 })
}
