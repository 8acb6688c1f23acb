import { BreakwaterError } from '../errors.js'

export const PASSWORD_MIN_CODE_POINTS = 12
export const PASSWORD_MAX_CODE_POINTS = 256

// Passwords of twelve or more characters that top the public breach-frequency
// lists (shorter ones already fail the length rule), compared case-insensitively.
const COMMON_PASSWORDS = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789123',
  '1234567891011',
  '111111111111',
  '000000000000',
  '123123123123',
  '121212121212',
  '987654321098',
  '098765432112',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qwertyuiop12',
  'qwertyuiop123',
  'qwertyuiopasdf',
  'qwerty123456',
  'qwerty12345678',
  'asdfghjkl123',
  'zxcvbnm12345',
  'q1w2e3r4t5y6',
  'a1b2c3d4e5f6',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'password123!',
  'password1234!',
  'p@ssw0rd1234',
  'p@ssword1234',
  'iloveyou1234',
  'iloveyou12345',
  'iloveyouforever',
  'letmein12345',
  'welcome12345',
  'welcome123456',
  'administrator',
  'administrator1',
  'admin1234567',
  'changeme1234',
  'changemenow!',
  'trustno1trustno1',
  'football1234',
  'baseball1234',
  'basketball12',
  'superman1234',
  'sunshine1234',
  'princess1234',
  'starwars1234',
  'monkey123456',
  'dragon123456',
  'master123456',
  'michael12345',
  'jennifer1234',
  'computer1234',
  'internet1234',
  'whatever1234',
  'abcdefghijkl',
  'abcdefghijklm',
  'abcd12345678',
  'abc123456789',
  'aaaaaaaaaaaa',
  'correcthorsebatterystaple',
  'correct horse battery staple',
  'thisismypassword',
  'mypassword123',
  'mypassword1234',
  'secretpassword',
  'qazwsxedcrfv',
  'qazwsxedcrfvtgb',
  '1qazxsw23edc',
  'zaq12wsxcde3',
  'zaq1zaq1zaq1',
  'q1w2e3r4t5y6u7',
  'test12345678',
  'testtesttest',
  'hellohello12',
  'helloworld12',
  'helloworld123',
  'loveyou12345',
  'summer2024!!',
  'winter2024!!',
  'spring2025!!',
  'autumn2025!!',
  'breakwater123',
  'breakwater1234',
])

/** True for one character repeated, or a straight run of digits or letters (`123456789012`, `abcdefghijkl`). */
function isTrivialSequence(password: string): boolean {
  const codes = [...password].map((c) => c.codePointAt(0) ?? 0)
  const step = (codes[1] ?? 0) - (codes[0] ?? 0)
  if (Math.abs(step) > 1) return false
  return codes.every((code, i) => i === 0 || code - (codes[i - 1] ?? 0) === step)
}

/**
 * The one password normalisation (NFKC), for hashing and for checking alike:
 * the same password typed on any keyboard hashes the same.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

/**
 * Normalises a password to NFKC (so the same password typed on any keyboard
 * hashes the same) and applies SPEC §3's strength rule: 12 to 256 code points,
 * not a common or trivial password.
 *
 * @throws BreakwaterError `WEAK_PASSWORD`, with a message that says which rule failed.
 */
export function acceptPassword(password: string): string {
  const normalized = normalizePassword(password)
  const length = [...normalized].length
  if (length < PASSWORD_MIN_CODE_POINTS) {
    throw new BreakwaterError('WEAK_PASSWORD', {
      message: `Use at least ${PASSWORD_MIN_CODE_POINTS} characters.`,
    })
  }
  if (length > PASSWORD_MAX_CODE_POINTS) {
    throw new BreakwaterError('WEAK_PASSWORD', {
      message: `Use at most ${PASSWORD_MAX_CODE_POINTS} characters.`,
    })
  }
  if (COMMON_PASSWORDS.has(normalized.toLowerCase()) || isTrivialSequence(normalized)) {
    throw new BreakwaterError('WEAK_PASSWORD', {
      message: 'This password is too common; choose another.',
    })
  }
  return normalized
}
