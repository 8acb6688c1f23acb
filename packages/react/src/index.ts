export type {
  SecondFactorChallenge,
  SecondFactorInput,
  SignedIn,
  SignInInput,
  SignInResult,
  SignInWithCodeInput,
  SignInWithPasskeyInput,
  SignUpInput,
} from './procedures.js'
export { BreakwaterProvider, type BreakwaterProviderProps } from './provider.js'
export { type SessionState, type SessionStatus, SessionStore } from './session-store.js'
export { type UseSessionResult, useSession } from './use-session.js'
export {
  type PendingState,
  type UseSignInResult,
  type UseSignUpResult,
  useSignIn,
  useSignUp,
} from './use-sign-in.js'
