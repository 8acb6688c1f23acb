import { randomInt } from 'node:crypto'
import {
  checkOneTimeCode,
  findUserByEmail,
  issueOneTimeToken,
  markEmailVerified,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { afterAnswering, mayMail, sendMail, tokenDigest } from './mail-links.js'
import { needsSecondFactor, openChallenge, type SecondFactorRequired } from './second-factor.js'
import { openSession, type SignedIn } from './sign-in.js'

/** Guesses a code allows before it is spent (SPEC §9). */
const CODE_ATTEMPTS = 5

function mintCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0')
}

// Six digits repeat across users, and the table's (purpose, digest) key is
// unique: the digest binds the code to its user.
function codeDigest(runtime: Runtime, userId: string, code: string): string {
  return tokenDigest(runtime, 'sign_in_code', `${userId}:${code}`)
}

/**
 * `auth.requestSignInCode`: mails a 6-digit code (voiding the older one),
 * issued after the answer: the same answer, in the same time, for an unknown
 * address, which gets nothing.
 */
export async function requestSignInCode(
  runtime: Runtime,
  email: string,
  client: ClientInfo,
): Promise<void> {
  await limitAttemptsFromIp(runtime, client.ip)
  const user = await findUserByEmail(runtime.database.db, email)
  const allowed = await mayMail(runtime, email)
  if (user && allowed) {
    afterAnswering(runtime, user.id, async () => {
      const code = mintCode()
      const ttlSeconds = runtime.options.signInCodeTtl
      await issueOneTimeToken(runtime.database.db, {
        userId: user.id,
        purpose: 'sign_in_code',
        tokenHash: codeDigest(runtime, user.id, code),
        ttlSeconds,
        now: runtime.now(),
      })
      sendMail(runtime, 'signInCode', user.email, {
        email: user.email,
        displayName: user.displayName,
        code,
        minutes: Math.round(ttlSeconds / 60),
      })
    })
  }
  await runtime.audit({
    type: 'sign_in_code.requested',
    userId: user?.id ?? null,
    ...client,
    details: user ? { sent: allowed } : { unknownAddress: true },
  })
}

/**
 * `auth.signInWithCode`: the attempt is counted before the comparison, so a
 * burst of guesses checks at most 5 per code; a wrong, spent, expired or
 * unknown code, or an unknown address, answers `INVALID_CREDENTIALS`. The
 * code came through the mailbox, so the address counts as verified.
 */
export async function signInWithCode(
  runtime: Runtime,
  input: { email: string; code: string },
  client: ClientInfo,
): Promise<SignedIn | SecondFactorRequired> {
  await limitAttemptsFromIp(runtime, client.ip)
  const user = await findUserByEmail(runtime.database.db, input.email)
  // An unknown address runs the same check against an id nobody has: same queries, same time.
  const userId = user?.id ?? crypto.randomUUID()
  const checked = await checkOneTimeCode(runtime.database.db, {
    userId,
    purpose: 'sign_in_code',
    tokenHash: codeDigest(runtime, userId, input.code),
    maxAttempts: CODE_ATTEMPTS,
    now: runtime.now(),
  })
  if (!user || !checked.matched) {
    await runtime.audit({
      type: 'sign_in_code.failed',
      userId: user?.id ?? null,
      ...client,
    })
    throw new BreakwaterError('INVALID_CREDENTIALS')
  }
  let signedIn = user
  if (user.emailVerifiedAt === null) {
    const now = runtime.now()
    await markEmailVerified(runtime.database.db, user.id, now)
    forgetUser(runtime, user.id)
    signedIn = { ...user, emailVerifiedAt: now }
  }
  if (needsSecondFactor(signedIn)) return openChallenge(runtime, signedIn, client, ['otp'])
  return openSession(runtime, signedIn, client, 'code')
}
