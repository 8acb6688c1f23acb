import { z } from 'zod'

// Bounds far above any real value and far below anything that could cost us:
// strength rules (12–256 code points) are applied after these, with their own reason.
const MAX_PASSWORD_INPUT = 1024
const MAX_EMAIL = 254

/** Trims, lower-cases the domain (the local part is the mailbox owner's to define), checks the shape. */
export function normalizeEmail(raw: string): string {
  const trimmed = raw.trim()
  const at = trimmed.lastIndexOf('@')
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`
}

export const email = z
  .string()
  .trim()
  .min(3)
  .max(MAX_EMAIL)
  // No control characters (a NUL cannot be stored, and none belongs in an address).
  .regex(/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u, 'Invalid email address.')
  .transform(normalizeEmail)

export const password = z.string().min(1).max(MAX_PASSWORD_INPUT)

export const transport = z.enum(['cookie', 'bearer']).default('cookie')

export const credentials = z.object({ email, password, transport })

export const registration = credentials.extend({
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^\P{Cc}*$/u, 'No control characters.')
    .optional(),
})

export const refreshInput = z.object({ refreshToken: z.string().max(512).optional() }).optional()

export const logoutInput = z.object({ refreshToken: z.string().max(512).optional() }).optional()

export const logoutAllInput = z.object({ keepCurrent: z.boolean().optional() }).optional()

export const changePasswordInput = z.object({ currentPassword: password, newPassword: password })

export const sessionIdInput = z.object({ sessionId: z.string().min(1).max(128) })

// A link token as Breakwater mints it (base64url); anything else is refused at the
// edge, before a digest or a query: empty, huge, NUL, path- or JSON-like.
const linkToken = z
  .string()
  .min(16)
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, 'Not a link token.')

export const linkTokenInput = z.object({ token: linkToken })

export const passwordResetRequest = z.object({ email })

export const passwordReset = z.object({ token: linkToken, newPassword: password })

export const emailChangeRequest = z.object({ newEmail: email, currentPassword: password })

export const signInCodeRequest = z.object({ email })

export const codeSignIn = z.object({
  email,
  // Spaces a user may copy along ("123 456") are not part of the code.
  code: z
    .string()
    .max(32)
    .transform((code) => code.replace(/\s+/g, ''))
    .pipe(z.string().regex(/^\d{6}$/, 'A sign-in code is 6 digits.')),
  transport,
})

export const accountDeletion = z.object({ currentPassword: password })

// A TOTP code as people type it: spaces copied along are not part of it.
const totpCode = z
  .string()
  .max(32)
  .transform((code) => code.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'A code is 6 digits.'))

const recoveryCode = z.string().min(1).max(64)

export const totpCodeInput = z.object({ code: totpCode })

/** One proof of a second factor: a TOTP code or a recovery code, exactly one. */
export const secondFactorInput = z
  .object({
    challenge: linkToken,
    code: totpCode.optional(),
    recoveryCode: recoveryCode.optional(),
    transport,
  })
  .refine((input) => (input.code === undefined) !== (input.recoveryCode === undefined), {
    message: 'Give either code or recoveryCode.',
  })

export const reauthenticationInput = z
  .object({
    password: password.optional(),
    code: totpCode.optional(),
    recoveryCode: recoveryCode.optional(),
  })
  .refine(
    (input) =>
      [input.password, input.code, input.recoveryCode].filter((value) => value !== undefined)
        .length === 1,
    { message: 'Give one of password, code or recoveryCode.' },
  )
