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

/** RFC 8176 methods that prove more than a password: a TOTP code, a recovery code, a passkey. */
const SECOND_FACTORS = new Set(['otp', 'rc', 'hwk', 'swk'])

/**
 * Step-up that a password alone cannot pass, for what would let a session outlive
 * the user's second factor (adding a passkey, which signs in alone): the recent
 * proof must have been a TOTP code, a recovery code or a passkey. Used only for
 * users who have a second factor; everyone else passes with {@link requireRecentAuth}.
 */
export function requireRecentSecondFactor(runtime: Runtime, session: AuthenticatedSession): void {
  requireRecentAuth(runtime, session)
  const amr = session.claims.amr ?? []
  if (!amr.some((method) => SECOND_FACTORS.has(method)))
    throw new BreakwaterError('REAUTH_REQUIRED', {
      message:
        'Confirm it is you with your authenticator app, a recovery code or a passkey (the password alone is not enough here), then retry.',
    })
}
