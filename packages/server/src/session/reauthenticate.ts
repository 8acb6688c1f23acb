import { findUserById, renewSessionAuthTime, type Session } from '@breakwater/db'
import type { SignedAccessToken } from '@breakwater/tokens'
import { BreakwaterError } from '../errors.js'
import type { AuthenticatedSession } from '../guard/authenticate.js'
import { refundAccountAttempt, takeAccountAttempt } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { checkPassword } from './password-check.js'
import { auditFactorUse, checkSecondFactor, type SecondFactorAnswer } from './second-factor.js'
import { signAccessToken } from './tokens.js'

/**
 * `auth.reauthenticate` (SPEC §10 step-up): the password (the guarded check) or
 * a second factor renews the session's `auth_time`; the answer is a fresh
 * access token carrying it. The refresh token is unchanged, and later
 * refreshes keep the new `auth_time`, since it lives in the session row.
 */
export async function reauthenticate(
  runtime: Runtime,
  caller: AuthenticatedSession,
  input: SecondFactorAnswer & { password?: string | undefined },
  client: ClientInfo,
): Promise<{ session: Session; access: SignedAccessToken }> {
  const user = await findUserById(runtime.database.db, caller.userId)
  if (!user) throw new BreakwaterError('SESSION_REVOKED')
  let amr: string[]
  if (input.password !== undefined) {
    await checkPassword(runtime, {
      email: user.email,
      user,
      password: input.password,
      client,
      sessionId: caller.sessionId,
      during: 'reauthenticate',
    })
    amr = ['pwd']
  } else {
    // Counted like a password check, before it: a session alone must not be able to
    // guess a 6-digit code without limit.
    await takeAccountAttempt(runtime, user.email)
    const proved = await checkSecondFactor(runtime, user.id, input, 'reauthenticate')
    if (!proved) {
      await runtime.audit({
        type: 'mfa.failed',
        userId: user.id,
        sessionId: caller.sessionId,
        ...client,
        details: { during: 'reauthenticate' },
      })
      throw new BreakwaterError('INVALID_CREDENTIALS', {
        message: input.passkey === undefined ? 'Wrong code.' : 'This passkey was not accepted.',
      })
    }
    await refundAccountAttempt(runtime, user.email)
    await auditFactorUse(
      runtime,
      user.id,
      proved,
      { ...client, sessionId: caller.sessionId },
      'reauthenticate',
    )
    amr = [proved.method]
  }
  const session = await renewSessionAuthTime(runtime.database.db, {
    sessionId: caller.sessionId,
    amr,
    now: runtime.now(),
  })
  if (!session) throw new BreakwaterError('SESSION_REVOKED')
  runtime.recentSessions.delete(session.id)
  await runtime.audit({
    type: 'session.reauthenticated',
    userId: user.id,
    sessionId: session.id,
    ...client,
    details: { amr },
  })
  return { session, access: await signAccessToken(runtime, session) }
}
