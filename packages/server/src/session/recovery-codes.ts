import { randomBytes } from 'node:crypto'
import { useRecoveryCode } from '@breakwater/db'
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'
import type { Runtime } from '../runtime.js'

const RECOVERY_CODES = 10

/** A code as the user may type it: case, spaces and dashes do not matter. */
function normalize(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '')
}

// Keyed and bound to the user, like every stored secret: a dump tests nothing.
function digest(runtime: Runtime, userId: string, code: string): string {
  return runtime.secrets.digest('recovery_code', `${userId}:${normalize(code)}`)
}

/** 10 codes of 50 random bits (`xxxxx-xxxxx`, base32), and their digests to store. */
export function mintRecoveryCodes(
  runtime: Runtime,
  userId: string,
): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const raw = encodeBase32LowerCaseNoPadding(randomBytes(7)).slice(0, 10)
    return `${raw.slice(0, 5)}-${raw.slice(5)}`
  })
  return { codes, hashes: codes.map((code) => digest(runtime, userId, code)) }
}

/** Uses a recovery code of the user: once, atomically. */
export function redeemRecoveryCode(
  runtime: Runtime,
  userId: string,
  code: string,
): Promise<boolean> {
  return useRecoveryCode(runtime.database.db, {
    userId,
    codeHash: digest(runtime, userId, code),
    now: runtime.now(),
  })
}
