import type { User } from '@breakwater/db'

/**
 * Whether the user's logins need a second factor after the password: once an
 * authenticator app (TOTP) is on, which brings the recovery codes. Passkeys alone
 * do not make it required: a lost device must not lock the password out.
 */
export function needsSecondFactor(user: User): boolean {
  return user.totpEnabledAt !== null
}

/** SPEC §10: a login challenge lives 5 minutes and allows 5 attempts (passkey options included). */
export const CHALLENGE_TTL_SECONDS = 300
export const CHALLENGE_ATTEMPTS = 5
