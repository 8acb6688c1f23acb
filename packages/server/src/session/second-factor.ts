import {
  consumeOneTimeToken,
  countChallengeAttempt,
  findUserById,
  issueOneTimeToken,
  type User,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import {
  limitAttemptsFromIp,
  refundAccountAttempt,
  takeAccountAttempt,
} from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { mintLinkToken, tokenDigest } from './mail-links.js'
import { redeemRecoveryCode } from './recovery-codes.js'
import { openSession, type SignedIn } from './sign-in.js'
import { checkTotpCode } from './totp.js'

/** SPEC §10: a login challenge lives 5 minutes and allows 5 attempts. */
const CHALLENGE_TTL_SECONDS = 300
const CHALLENGE_ATTEMPTS = 5

/** The second factors a user can answer a challenge with. */
export type SecondFactorMethod = 'totp' | 'recovery_code'

/** What `auth.login` answers for a user with a second factor: no session yet. */
export interface SecondFactorRequired {
  readonly mfaRequired: true
  readonly challenge: string
  readonly methods: SecondFactorMethod[]
}

/** Whether the user must answer a second factor after the password. */
export function needsSecondFactor(user: User): boolean {
  return user.totpEnabledAt !== null
}

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
  return { mfaRequired: true, challenge, methods: ['totp', 'recovery_code'] }
}

/** A TOTP code or a recovery code of a user; returns the RFC 8176 method it proved, or nothing. */
export async function checkSecondFactor(
  runtime: Runtime,
  userId: string,
  answer: { code?: string | undefined; recoveryCode?: string | undefined },
): Promise<'otp' | 'rc' | undefined> {
  if (answer.code !== undefined)
    return (await checkTotpCode(runtime, userId, answer.code)) ? 'otp' : undefined
  if (answer.recoveryCode !== undefined)
    return (await redeemRecoveryCode(runtime, userId, answer.recoveryCode)) ? 'rc' : undefined
  return undefined
}

/**
 * `auth.verifySecondFactor`: the attempt is counted on the challenge (5) and on
 * the account's failure limit before the code is checked, so a burst checks at
 * most the limit; a right code uses the challenge (once) and opens the session.
 */
export async function verifySecondFactor(
  runtime: Runtime,
  input: { challenge: string; code?: string | undefined; recoveryCode?: string | undefined },
  client: ClientInfo,
): Promise<SignedIn> {
  await limitAttemptsFromIp(runtime, client.ip)
  const tokenHash = tokenDigest(runtime, 'mfa_challenge', input.challenge)
  const pending = await countChallengeAttempt(runtime.database.db, {
    tokenHash,
    maxAttempts: CHALLENGE_ATTEMPTS,
    now: runtime.now(),
  })
  if (!pending)
    throw new BreakwaterError('INVALID_CREDENTIALS', {
      message: 'This sign-in has expired: enter your password again.',
    })
  const user = await findUserById(runtime.database.db, pending.userId)
  if (!user) throw new BreakwaterError('INVALID_CREDENTIALS')
  await takeAccountAttempt(runtime, user.email)
  const method = await checkSecondFactor(runtime, user.id, input)
  if (
    !method ||
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
    throw new BreakwaterError('INVALID_CREDENTIALS', { message: 'Wrong code.' })
  }
  await refundAccountAttempt(runtime, user.email)
  if (method === 'rc')
    await runtime.audit({ type: 'mfa.recovery_code_used', userId: user.id, ...client })
  const first = Array.isArray(pending.data?.amr) ? (pending.data.amr as string[]) : ['pwd']
  const signInMethod = first.includes('pwd') ? 'password' : 'code'
  return openSession(runtime, user, client, signInMethod, [
    ...first,
    method === 'otp' ? 'otp' : 'rc',
  ])
}
