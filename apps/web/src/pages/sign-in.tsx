import { useSignIn, useSignUp } from '@breakwater/react'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { trpcClient as client } from '../api.js'
import { AppLink } from '../components/app-link.js'
import { EmailField } from '../components/email-field.js'
import { Outcome } from '../components/outcome.js'
import { type LoginChallenge, SecondFactorForm } from '../components/second-factor-form.js'
import { type Context, describeError } from '../messages.js'
import type { Navigate } from '../router.js'
import { useAction } from '../use-action.js'
import { passkeysSupported } from '../webauthn-support.js'

export interface SignInProps {
  /** Why we are here (signed out elsewhere, session expired), if there is news. */
  notice?: string | undefined
  /** Why signing in may fail (the server could not be reached), if so. */
  error?: string | undefined
  /** What to prefill (coming back from the reset or code pages). */
  email: string | undefined
  navigate: Navigate
}

type Attempt = Extract<Context, 'sign-in' | 'sign-up' | 'passkey-sign-in'>

/**
 * The sign-in / sign-up form. Enter signs in; "Create account" registers;
 * "Sign in with a passkey" needs neither the address nor the password (the
 * browser offers this site's passkeys). Links lead to the password reset and
 * to signing in with a mailed code. A second factor, when the account has one,
 * takes the form's place.
 */
export function SignIn({ notice, error, email: initial, navigate }: SignInProps) {
  const signIn = useSignIn()
  const signUp = useSignUp()
  // Two requests: the options (a challenge for any passkey of this site), then the signed
  // answer, which `@breakwater/react` signs in with (its own answer says who: no auth.me).
  const ceremony = useAction(async () => {
    const options = await client.auth.passkeyOptions.mutate()
    const { signWithPasskey } = await import('../webauthn.js')
    return signWithPasskey(options)
  })
  const passkeySignIn = useSignIn()
  const signInWithPasskey = async () => {
    const response = await ceremony.run()
    if (response) await passkeySignIn.signInWithPasskey({ response })
  }
  const [email, setEmail] = useState(initial ?? '')
  const [password, setPassword] = useState('')
  const [attempt, setAttempt] = useState<Attempt>()
  const [challenge, setChallenge] = useState<LoginChallenge>()
  const emailField = useRef<HTMLInputElement>(null)
  const passwordField = useRef<HTMLInputElement>(null)

  useEffect(() => emailField.current?.focus(), [])

  if (challenge) return <SecondFactorForm challenge={challenge} />

  // Each way of signing in keeps its own last failure: the line shows the one tried last.
  const failures = {
    'sign-in': signIn.error,
    'sign-up': signUp.error,
    'passkey-sign-in': ceremony.error ?? passkeySignIn.error,
  }
  const failure = attempt && failures[attempt]
  const message = attempt ? (failure ? describeError(failure, attempt) : undefined) : error
  const pending = signIn.pending || signUp.pending || ceremony.pending || passkeySignIn.pending

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null
    const mode = submitter?.value === 'sign-up' ? 'sign-up' : 'sign-in'
    setAttempt(mode)
    const input = { email, password }
    const result = mode === 'sign-up' ? await signUp.signUp(input) : await signIn.signIn(input)
    if (!result) return passwordField.current?.select()
    setPassword('')
    if ('mfaRequired' in result) setChallenge(result)
  }

  return (
    <form className="card" data-testid="sign-in-form" noValidate onSubmit={submit}>
      <h1>Sign in to Breakwater</h1>
      <Outcome kind="notice" message={attempt ? undefined : notice} />
      <EmailField ref={emailField} testId="email" value={email} onChange={setEmail} />
      <label>
        Password
        <input
          ref={passwordField}
          type="password"
          name="password"
          autoComplete="current-password"
          required
          data-testid="password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </label>
      <p className="hint">New here? Choose a password of at least 12 characters.</p>
      <Outcome kind="error" message={message} />
      <div className="actions">
        <button type="submit" value="sign-in" disabled={pending} data-testid="sign-in">
          Sign in
        </button>
        <button
          type="submit"
          value="sign-up"
          className="secondary"
          disabled={pending}
          data-testid="sign-up"
        >
          Create account
        </button>
      </div>
      <div className="actions alternative">
        <button
          type="button"
          className="secondary"
          hidden={!passkeysSupported()}
          disabled={pending}
          data-testid="passkey-sign-in"
          onClick={() => {
            setAttempt('passkey-sign-in')
            passkeySignIn.reset()
            void signInWithPasskey()
          }}
        >
          Sign in with a passkey
        </button>
      </div>
      <p className="links">
        {/* The next page prefills the address typed here. */}
        <AppLink
          to="/forgot-password"
          navigate={navigate}
          carry={() => ({ email })}
          data-testid="forgot-password"
        >
          Forgot password?
        </AppLink>
        <AppLink
          to="/sign-in-with-code"
          navigate={navigate}
          carry={() => ({ email })}
          data-testid="use-code"
        >
          Sign in with a code
        </AppLink>
      </p>
    </form>
  )
}
