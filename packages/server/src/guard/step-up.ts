import { BreakwaterError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { AuthenticatedSession } from './authenticate.js'

/**
 * Step-up (SPEC §10): the caller's access token must say the user proved a factor
 * (`auth_time`) within `maxAgeSeconds` (default `stepUpMaxAge`); else
 * `REAUTH_REQUIRED`, which `auth.reauthenticate` answers. A token without
 * `auth_time` never passes.
 */
export function requireRecentAuth(
  runtime: Runtime,
  session: AuthenticatedSession,
  maxAgeSeconds: number = runtime.options.stepUpMaxAge,
): void {
  const authTime = session.claims.auth_time
  const age = authTime === undefined ? Number.POSITIVE_INFINITY : runtime.clock() / 1000 - authTime
  if (!(age <= maxAgeSeconds)) throw new BreakwaterError('REAUTH_REQUIRED')
}
