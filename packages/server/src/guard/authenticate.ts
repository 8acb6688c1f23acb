import { type AccessTokenClaims, TokenError } from '@breakwater/tokens'
import type { FastifyRequest } from 'fastify'
import { BreakwaterError } from '../errors.js'
import { readAccessCookie } from '../http/cookies.js'
import { assertCookieMutationAllowed } from '../http/csrf.js'
import type { Runtime } from '../runtime.js'

/** The verified session of a request. */
export interface AuthenticatedSession {
  readonly userId: string
  readonly sessionId: string
  readonly claims: AccessTokenClaims
  /** Where the access token came from; CSRF rules apply to `cookie` only. */
  readonly via: 'bearer' | 'cookie'
}

const BEARER = /^Bearer +([^\s]+) *$/i

/** The access token of a request: the Authorization header first, then the access cookie. */
export function readAccessToken(
  request: FastifyRequest,
): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = BEARER.exec(header)
    // A malformed Authorization header is an invalid token, not a missing one.
    return { token: match?.[1] ?? header, via: 'bearer' }
  }
  const cookie = readAccessCookie(request)
  return cookie ? { token: cookie, via: 'cookie' } : undefined
}

function verify(runtime: Runtime, token: string): AccessTokenClaims {
  try {
    return runtime.verifyAccessToken(token)
  } catch (error) {
    if (error instanceof TokenError) throw new BreakwaterError(error.reason)
    throw error
  }
}

function decide(
  runtime: Runtime,
  request: FastifyRequest,
  mutation: boolean,
  found: { token: string; via: 'bearer' | 'cookie' },
  claims: AccessTokenClaims,
): AuthenticatedSession {
  if (runtime.revocations.has(claims.sid)) throw new BreakwaterError('SESSION_REVOKED')
  if (mutation && found.via === 'cookie') assertCookieMutationAllowed(request, runtime.options)
  return { userId: claims.sub, sessionId: claims.sid, claims, via: found.via }
}

/**
 * SPEC §4's order of verdicts: bad token → `TOKEN_INVALID`, genuine but past
 * `exp` → `TOKEN_EXPIRED`, then a revoked session → `SESSION_REVOKED`; and
 * for cookie-authenticated mutations, SPEC §5's CSRF rule. Synchronous on
 * every path but one: a token naming a key this instance has not loaded yet
 * (another instance may have just created it), which waits for one reload.
 */
export function authenticate(
  runtime: Runtime,
  request: FastifyRequest,
  mutation: boolean,
): AuthenticatedSession | Promise<AuthenticatedSession> {
  const found = readAccessToken(request)
  if (!found) throw new BreakwaterError('TOKEN_MISSING')
  let claims: AccessTokenClaims
  try {
    claims = verify(runtime, found.token)
  } catch (error) {
    if (!(error instanceof BreakwaterError) || error.reason !== 'TOKEN_INVALID') throw error
    return runtime.keyring.reloadForUnknownKid().then((reloaded) => {
      if (!reloaded) throw error
      return decide(runtime, request, mutation, found, verify(runtime, found.token))
    })
  }
  return decide(runtime, request, mutation, found, claims)
}
