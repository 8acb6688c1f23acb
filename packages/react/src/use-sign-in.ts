import { type ClientReason, readReason } from '@breakwater/client'
import { useCallback, useMemo, useState } from 'react'
import type {
  SecondFactorInput,
  SignedIn,
  SignInInput,
  SignInResult,
  SignInWithCodeInput,
  SignInWithPasskeyInput,
  SignUpInput,
} from './procedures.js'
import { useSessionStore } from './provider.js'

/** The state every sign-in hook shares. */
export interface PendingState {
  /** A call is out. */
  pending: boolean
  /** The last call's failure, if it failed. */
  error: unknown
  /** Its Breakwater reason (`INVALID_CREDENTIALS`, `RATE_LIMITED`, `EMAIL_TAKEN`, `WEAK_PASSWORD`, …). */
  reason: ClientReason | undefined
  /** Clears `error`. */
  reset(): void
}

/** What {@link useSignIn} returns. */
export interface UseSignInResult extends PendingState {
  /**
   * `auth.login`. Resolves with the answer (`{ user, session }`, or
   * `{ mfaRequired: true, challenge }`: then call `verifySecondFactor`), or
   * `undefined` when it failed (see `error`, `reason`): it never rejects.
   */
  signIn(input: SignInInput): Promise<SignInResult | undefined>
  /** `auth.verifySecondFactor({ challenge, code })` (or `recoveryCode`): the second step. */
  verifySecondFactor(input: SecondFactorInput): Promise<SignedIn | undefined>
  /**
   * `auth.signInWithCode({ email, code })`, the code mailed by `auth.requestSignInCode`.
   * Resolves as `signIn` does: a user with TOTP answers a challenge after it.
   */
  signInWithCode(input: SignInWithCodeInput): Promise<SignInResult | undefined>
  /**
   * `auth.loginWithPasskey({ response })`: the assertion for the options of
   * `auth.passkeyOptions` (`startAuthentication` of `@simplewebauthn/browser`).
   */
  signInWithPasskey(input: SignInWithPasskeyInput): Promise<SignedIn | undefined>
}

/** What {@link useSignUp} returns. */
export interface UseSignUpResult extends PendingState {
  /** `auth.register`: resolves with the new session, or `undefined` when it failed (see `error`). */
  signUp(input: SignUpInput): Promise<SignedIn | undefined>
}

function usePending() {
  const [state, setState] = useState<{ pending: number; error: unknown }>({
    pending: 0,
    error: undefined,
  })
  const run = useCallback(async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    setState((s) => ({ pending: s.pending + 1, error: undefined }))
    try {
      const result = await call()
      setState((s) => ({ pending: s.pending - 1, error: undefined }))
      return result
    } catch (error) {
      setState((s) => ({ pending: s.pending - 1, error }))
      return undefined
    }
  }, [])
  const reset = useCallback(() => setState((s) => ({ ...s, error: undefined })), [])
  return {
    run,
    pending: state.pending > 0,
    error: state.error,
    reason: readReason(state.error),
    reset,
  }
}

/**
 * Sign in with email and password, a mailed code or a passkey: `useSession()` turns
 * `signed-in` with the answer (no extra `auth.me`), in every tab.
 *
 * @example
 * ```tsx
 * const { signIn, pending, reason } = useSignIn()
 * const result = await signIn({ email, password })
 * if (result && 'mfaRequired' in result) askForCode(result.challenge)
 * ```
 */
export function useSignIn(): UseSignInResult {
  const store = useSessionStore('useSignIn')
  const { run, pending, error, reason, reset } = usePending()
  const signIn = useCallback((input: SignInInput) => run(() => store.signIn(input)), [run, store])
  const verifySecondFactor = useCallback(
    (input: SecondFactorInput) => run(() => store.verifySecondFactor(input)),
    [run, store],
  )
  const signInWithCode = useCallback(
    (input: SignInWithCodeInput) => run(() => store.signInWithCode(input)),
    [run, store],
  )
  const signInWithPasskey = useCallback(
    (input: SignInWithPasskeyInput) => run(() => store.signInWithPasskey(input)),
    [run, store],
  )
  return useMemo(
    () => ({
      signIn,
      verifySecondFactor,
      signInWithCode,
      signInWithPasskey,
      pending,
      error,
      reason,
      reset,
    }),
    [signIn, verifySecondFactor, signInWithCode, signInWithPasskey, pending, error, reason, reset],
  )
}

/** Create an account and sign in: `useSession()` turns `signed-in` with the answer. */
export function useSignUp(): UseSignUpResult {
  const store = useSessionStore('useSignUp')
  const { run, pending, error, reason, reset } = usePending()
  const signUp = useCallback((input: SignUpInput) => run(() => store.signUp(input)), [run, store])
  return useMemo(
    () => ({ signUp, pending, error, reason, reset }),
    [signUp, pending, error, reason, reset],
  )
}
