import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResolvedOptions } from '../options.js'

/** Cookie names of SPEC §5, plain on loopback HTTP and prefixed when Secure. */
export const COOKIE_NAMES = Object.freeze({
  access: { plain: 'bw_access', secure: '__Host-bw_access' },
  refresh: { plain: 'bw_refresh', secure: '__Secure-bw_refresh' },
})

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

/** The refresh procedure's own path, the only one the refresh cookie is sent to. */
export function refreshCookiePath(prefix: string): string {
  return `${prefix}/auth.refresh`
}

export function readAccessCookie(request: FastifyRequest): string | undefined {
  const cookies = request.cookies
  return cookies[COOKIE_NAMES.access.secure] ?? cookies[COOKIE_NAMES.access.plain] ?? undefined
}

export function readRefreshCookie(request: FastifyRequest): string | undefined {
  const cookies = request.cookies
  return cookies[COOKIE_NAMES.refresh.secure] ?? cookies[COOKIE_NAMES.refresh.plain] ?? undefined
}

export function hasSessionCookie(request: FastifyRequest): boolean {
  return readAccessCookie(request) !== undefined || readRefreshCookie(request) !== undefined
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
    path: refreshCookiePath(options.prefix),
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
    { value: tokens.accessToken, maxAge: options.accessTokenTtl },
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
