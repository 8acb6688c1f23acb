import { randomBytes, timingSafeEqual } from 'node:crypto'
import {
  acceptTotpStep,
  disableTotp,
  findTotp,
  findUserById,
  replaceRecoveryCodes,
  startTotpEnrolment,
} from '@breakwater/db'
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding'
import { createTOTPKeyURI, generateHOTP } from '@oslojs/otp'
import { BreakwaterError } from '../errors.js'
import { refundAccountAttempt, takeAccountAttempt } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { mintRecoveryCodes } from './recovery-codes.js'

/** RFC 6238 as SPEC §10 fixes it: SHA-1, 6 digits, 30-second steps, ±1 step of drift. */
const PERIOD_SECONDS = 30
const DIGITS = 6
const DRIFT_STEPS = 1
/** 160 bits, the HMAC-SHA-1 block the RFC recommends. */
const SEED_BYTES = 20

// The seed is bound to its user: a sealed value copied to another row does not open there.
const sealLabel = (userId: string) => `totp:${userId}`

/**
 * Checks a TOTP code of a user and takes its step, atomically: a code is accepted once,
 * and never after a later one (replay). `enable` confirms a pending enrolment.
 */
export async function checkTotpCode(
  runtime: Runtime,
  userId: string,
  code: string,
  options: { enable?: boolean } = {},
): Promise<boolean> {
  const totp = await findTotp(runtime.database.db, userId)
  if (!totp || (totp.enabledAt === null) !== (options.enable === true)) return false
  const seed = runtime.secrets.open(totp.sealed, sealLabel(userId))
  const now = Math.floor(runtime.clock() / 1000 / PERIOD_SECONDS)
  const given = Buffer.from(code)
  let matched: number | undefined
  // Every candidate is computed and compared, so the time does not tell which one matched.
  for (let step = now - DRIFT_STEPS; step <= now + DRIFT_STEPS; step++) {
    const expected = Buffer.from(generateHOTP(seed, BigInt(step), DIGITS))
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched ??= step
  }
  if (matched === undefined) return false
  return acceptTotpStep(runtime.database.db, {
    userId,
    step: matched,
    enable: options.enable === true,
    now: runtime.now(),
  })
}

/** `mfa.totp.enroll`: a new seed, sealed and pending until a code confirms it. */
export async function enrollTotp(
  runtime: Runtime,
  caller: { userId: string },
): Promise<{ secret: string; uri: string }> {
  const user = await findUserById(runtime.database.db, caller.userId)
  if (!user) throw new BreakwaterError('SESSION_REVOKED')
  const seed = randomBytes(SEED_BYTES)
  const started = await startTotpEnrolment(runtime.database.db, {
    userId: user.id,
    sealed: runtime.secrets.seal(seed, sealLabel(user.id)),
    now: runtime.now(),
  })
  if (!started) throw new BreakwaterError('MFA_ALREADY_ENABLED')
  const issuer = runtime.options.mail.appName ?? 'Breakwater'
  return {
    secret: encodeBase32UpperCaseNoPadding(seed),
    uri: createTOTPKeyURI(issuer, user.email, seed, PERIOD_SECONDS, DIGITS),
  }
}

/** `mfa.totp.confirm`: the first code proves the authenticator app; 10 recovery codes, shown once. */
export async function confirmTotp(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  code: string,
  client: ClientInfo,
): Promise<string[]> {
  if (!(await checkTotpCode(runtime, caller.userId, code, { enable: true })))
    throw new BreakwaterError('INVALID_CREDENTIALS', { message: 'Wrong code.' })
  const { codes, hashes } = mintRecoveryCodes(runtime, caller.userId)
  await replaceRecoveryCodes(runtime.database.db, {
    userId: caller.userId,
    codeHashes: hashes,
    now: runtime.now(),
  })
  forgetUser(runtime, caller.userId)
  await runtime.audit({
    type: 'mfa.totp_enabled',
    userId: caller.userId,
    sessionId: caller.sessionId,
    ...client,
  })
  return codes
}

/** `mfa.totp.disable`: a current code (or a recovery code) removes the factor and its codes. */
export async function disableTotpFactor(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  code: string,
  client: ClientInfo,
): Promise<void> {
  const user = await findUserById(runtime.database.db, caller.userId)
  if (!user) throw new BreakwaterError('SESSION_REVOKED')
  await takeAccountAttempt(runtime, user.email)
  if (!(await checkTotpCode(runtime, caller.userId, code)))
    throw new BreakwaterError('INVALID_CREDENTIALS', { message: 'Wrong code.' })
  await refundAccountAttempt(runtime, user.email)
  await disableTotp(runtime.database.db, caller.userId, runtime.now())
  forgetUser(runtime, caller.userId)
  await runtime.audit({
    type: 'mfa.totp_disabled',
    userId: caller.userId,
    sessionId: caller.sessionId,
    ...client,
  })
}
