import { type AccessTokenClaims, TokenError } from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import type { Runtime } from '../runtime.js'

function verify(runtime: Runtime, token: string): AccessTokenClaims {
  try {
    return runtime.verifyAccessToken(token)
  } catch (error) {
    if (error instanceof TokenError) throw new BreakwaterError(error.reason)
    throw error
  }
}

function live(runtime: Runtime, claims: AccessTokenClaims): AccessTokenClaims {
  if (runtime.revocations.has(claims.sid)) throw new BreakwaterError('SESSION_REVOKED')
  return claims
}

/**
 * SPEC §4's order of verdicts for an access token: bad token →
 * `TOKEN_INVALID`, genuine but past `exp` → `TOKEN_EXPIRED`, then a revoked
 * session → `SESSION_REVOKED`. An ended session's lifetime needs no check: the
 * token's `exp` never passes it. Synchronous on every path but one: a token
 * naming a key this instance has not loaded yet (another instance may have
 * just created it), which waits for one reload.
 */
export function authenticateToken(
  runtime: Runtime,
  token: string,
): AccessTokenClaims | Promise<AccessTokenClaims> {
  try {
    return live(runtime, verify(runtime, token))
  } catch (error) {
    if (!(error instanceof BreakwaterError) || error.reason !== 'TOKEN_INVALID') throw error
    return runtime.keyring.reloadForUnknownKid().then((reloaded) => {
      if (!reloaded) throw error
      return live(runtime, verify(runtime, token))
    })
  }
}
