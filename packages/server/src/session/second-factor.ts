import {
  consumeOneTimeToken,
  countChallengeAttempt,
  findUserById,
  issueOneTimeToken,
  listPasskeys,
  type User,
} from '@breakwater/db'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { BreakwaterError } from '../errors.js'
import {
  limitAttemptsFromIp,
  refundAccountAttempt,
  takeAccountAttempt,
} from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { CHALLENGE_ATTEMPTS, CHALLENGE_TTL_SECONDS } from './factors.js'
import { mintLinkToken, tokenDigest } from './mail-links.js'
import { checkPasskey, expiredLogin, type PasskeyMethod } from './passkeys.js'
import { redeemRecoveryCode } from './recovery-codes.js'
import { openSession, type SignedIn } from './sign-in.js'
import { checkTotpCode } from './totp.js'

/** The second factors a user can answer a challenge with. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey'

/** What `auth.login` answers for a user with a second factor: no session yet. */
export interface SecondFactorRequired {
  readonly mfaRequired: true
  readonly challenge: string
  readonly methods: SecondFactorMethod[]
}

export { needsSecondFactor } from './factors.js'

/** Opens a login challenge for a user whose password was right. */
export async function openChallenge(
  runtime: Runtime,
  user: User,
  client: ClientInfo,
  firstFactor: readonly string[],
): Promise<SecondFactorRequired> {
  const challenge = mintLinkToken()
  await issueOneTimeToken(runtime.database.db, {
    userId: user.id,
    purpose: 'mfa_challenge',
    tokenHash: tokenDigest(runtime, 'mfa_challenge', challenge),
    ttlSeconds: CHALLENGE_TTL_SECONDS,
    data: { amr: firstFactor },
    now: runtime.now(),
  })
  await runtime.audit({ type: 'mfa.challenged', userId: user.id, ...client })
  const withPasskey = (await listPasskeys(runtime.database.db, user.id)).length > 0
  const methods: SecondFactorMethod[] = ['totp', 'recovery_code']
  return { mfaRequired: true, challenge, methods: withPasskey ? [...methods, 'passkey'] : methods }
}

/** One answer to a second-factor question: a TOTP code, a recovery code or a passkey assertion. */
export interface SecondFactorAnswer {
  readonly code?: string | undefined
  readonly recoveryCode?: string | undefined
  readonly passkey?: unknown
}

/** What an answer proved: its RFC 8176 method, and the passkey when it was one. */
export interface ProvedFactor {
  readonly method: 'otp' | 'rc' | PasskeyMethod
  readonly passkeyId?: string
}

/**
 * Checks one second-factor answer of a user, for a login (`second_factor`) or a
 * step-up (`reauthenticate`); returns what it proved, or nothing.
 */
export async function checkSecondFactor(
  runtime: Runtime,
  userId: string,
  answer: SecondFactorAnswer,
  ceremony: 'second_factor' | 'reauthenticate',
): Promise<ProvedFactor | undefined> {
  if (answer.code !== undefined)
    return (await checkTotpCode(runtime, userId, answer.code)) ? { method: 'otp' } : undefined
  if (answer.recoveryCode !== undefined)
    return (await redeemRecoveryCode(runtime, userId, answer.recoveryCode))
      ? { method: 'rc' }
      : undefined
  if (answer.passkey !== undefined) {
    // Shape-checked at the edge (router/inputs.ts).
    const response = answer.passkey as AuthenticationResponseJSON
    const proved = await checkPasskey(runtime, response, ceremony, userId)
    return proved && { method: proved.method, passkeyId: proved.passkey.id }
  }
  return undefined
}

/**
 * `auth.verifySecondFactor`: the attempt is counted on the challenge (5) and on
 * the account's failure limit before the code is checked, so a burst checks at
 * most the limit; a right code uses the challenge (once) and opens the session.
 */
export async function verifySecondFactor(
  runtime: Runtime,
  input: SecondFactorAnswer & { challenge: string },
  client: ClientInfo,
): Promise<SignedIn> {
  await limitAttemptsFromIp(runtime, client.ip)
  const tokenHash = tokenDigest(runtime, 'mfa_challenge', input.challenge)
  const pending = await countChallengeAttempt(runtime.database.db, {
    tokenHash,
    maxAttempts: CHALLENGE_ATTEMPTS,
    now: runtime.now(),
  })
  if (!pending) throw expiredLogin()
  const user = await findUserById(runtime.database.db, pending.userId)
  if (!user) throw new BreakwaterError('INVALID_CREDENTIALS')
  await takeAccountAttempt(runtime, user.email)
  const proved = await checkSecondFactor(runtime, user.id, input, 'second_factor')
  if (
    !proved ||
    !(await consumeOneTimeToken(runtime.database.db, {
      purpose: 'mfa_challenge',
      tokenHash,
      now: runtime.now(),
    }))
  ) {
    await runtime.audit({
      type: 'mfa.failed',
      userId: user.id,
      ...client,
      details: { during: 'login' },
    })
    throw new BreakwaterError('INVALID_CREDENTIALS', {
      message: input.passkey === undefined ? 'Wrong code.' : 'This passkey was not accepted.',
    })
  }
  await refundAccountAttempt(runtime, user.email)
  await auditFactorUse(runtime, user.id, proved, client, 'login')
  const first = Array.isArray(pending.data?.amr) ? (pending.data.amr as string[]) : ['pwd']
  const signInMethod = first.includes('pwd') ? 'password' : 'code'
  return openSession(runtime, user, client, signInMethod, [...first, proved.method])
}

/** Records a recovery code's or a passkey's use (a TOTP code's shows in the sign-in or step-up event). */
export async function auditFactorUse(
  runtime: Runtime,
  userId: string,
  proved: ProvedFactor,
  client: ClientInfo & { sessionId?: string },
  during: 'login' | 'reauthenticate',
): Promise<void> {
  if (proved.method === 'rc')
    await runtime.audit({ type: 'mfa.recovery_code_used', userId, ...client, details: { during } })
  if (proved.passkeyId !== undefined)
    await runtime.audit({
      type: 'passkey.used',
      userId,
      ...client,
      details: { passkeyId: proved.passkeyId, during },
    })
}
