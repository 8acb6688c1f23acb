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

// WebAuthn responses as @simplewebauthn/browser gives them (base64url fields), bounded:
// a credential id is at most 1023 bytes; nothing else a browser sends comes near 16 KiB.
const base64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'Not base64url.')
const credentialId = base64url.min(1).max(1400)
const extensionResults = z.record(z.string(), z.unknown()).default({})
const attachment = z.enum(['platform', 'cross-platform']).optional()

/** What `startAuthentication()` of `@simplewebauthn/browser` resolves to. */
export const passkeyAssertion = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.max(256).optional(),
  }),
  clientExtensionResults: extensionResults,
  authenticatorAttachment: attachment,
})

/** What `startRegistration()` of `@simplewebauthn/browser` resolves to. */
export const passkeyAttestation = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    authenticatorData: base64url.optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url.optional(),
  }),
  clientExtensionResults: extensionResults,
  authenticatorAttachment: attachment,
})

const passkeyName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^\P{Cc}*$/u, 'No control characters.')

export const passkeyRegistration = z.object({
  response: passkeyAttestation,
  name: passkeyName.optional(),
})

export const passkeyIdInput = z.object({ id: z.string().min(1).max(128) })

export const passkeyRename = z.object({ id: z.string().min(1).max(128), name: passkeyName })

export const passkeySignInOptionsInput = z.object({ challenge: linkToken.optional() }).optional()

export const passkeySignIn = z.object({ response: passkeyAssertion, transport })

const exactlyOne = (values: unknown[]) => values.filter((value) => value !== undefined).length === 1

/** One proof of a second factor: a TOTP code, a recovery code or a passkey, exactly one. */
export const secondFactorInput = z
  .object({
    challenge: linkToken,
    code: totpCode.optional(),
    recoveryCode: recoveryCode.optional(),
    passkey: passkeyAssertion.optional(),
    transport,
  })
  .refine((input) => exactlyOne([input.code, input.recoveryCode, input.passkey]), {
    message: 'Give one of code, recoveryCode or passkey.',
  })

export const reauthenticationInput = z
  .object({
    password: password.optional(),
    code: totpCode.optional(),
    recoveryCode: recoveryCode.optional(),
    passkey: passkeyAssertion.optional(),
  })
  .refine((input) => exactlyOne([input.password, input.code, input.recoveryCode, input.passkey]), {
    message: 'Give one of password, code, recoveryCode or passkey.',
  })
