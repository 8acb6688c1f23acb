import type { SessionView, UserView } from '@breakwater/protocol'

/** A signed-in answer: `auth.me`, and every sign-in (`auth.login`, `auth.register`, …) once no second factor is due. */
export interface SignedIn {
  user: UserView
  session: SessionView
}

/** `auth.login` of a user with a second factor (SPEC §10): answer it with `verifySecondFactor`. */
export interface SecondFactorChallenge {
  readonly mfaRequired: true
  readonly challenge: string
  /** `passkey` when the user has one: answer with a WebAuthn assertion (`auth.passkeyOptions({ challenge })` first). */
  readonly methods: readonly ('totp' | 'recovery_code' | 'passkey')[]
}

/** What `signIn` resolves to when the server answered. */
export type SignInResult = SignedIn | SecondFactorChallenge

/** `auth.login`'s input. */
export interface SignInInput {
  email: string
  password: string
}

/** `auth.signInWithCode`'s input: the address and the 6-digit code mailed to it (`auth.requestSignInCode`). */
export interface SignInWithCodeInput {
  email: string
  code: string
}

/**
 * `auth.loginWithPasskey`'s input: the passkey's assertion (`startAuthentication`'s result
 * from `@simplewebauthn/browser`, for the options `auth.passkeyOptions` answered).
 */
export interface SignInWithPasskeyInput {
  response: object
}

/** `auth.register`'s input: the fields your server's `userFields` adds may ride along. */
export interface SignUpInput {
  email: string
  password: string
  displayName?: string
  [field: string]: unknown
}

/**
 * `auth.verifySecondFactor`'s input: the challenge and a TOTP code, a recovery code, or a
 * passkey's assertion (`startAuthentication`'s result from `@simplewebauthn/browser`).
 */
export type SecondFactorInput =
  | { challenge: string; code: string }
  | { challenge: string; recoveryCode: string }
  | { challenge: string; passkey: object }

/** One procedure of a tRPC client proxy, reached by its dotted path. */
export interface Procedure {
  query(input?: unknown): Promise<unknown>
  mutate(input?: unknown): Promise<unknown>
}

/**
 * The procedure at `path` (`auth.me`, or `account.auth.me` under a namespace)
 * on a tRPC client proxy: `createTRPCClient`'s and `createBreakwaterClient`'s
 * resolve any property path to a procedure, so a typed client of any router
 * that contains Breakwater's can be called by the paths `auth.paths` names.
 */
export function procedure(client: object, path: string): Procedure {
  let node: unknown = client
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key]
  return node as Procedure
}

/** Whether an answer is a session (not a second-factor challenge). */
export function isSignedIn(result: unknown): result is SignedIn {
  const value = result as Partial<SignedIn> | null | undefined
  return typeof value?.user === 'object' && typeof value?.session === 'object'
}
