import { useSignIn } from '@breakwater/react'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { trpcClient } from '../api.js'
import { AppLink } from '../components/app-link.js'
import { CodeField } from '../components/code-field.js'
import { EmailField } from '../components/email-field.js'
import { Outcome } from '../components/outcome.js'
import { type LoginChallenge, SecondFactorForm } from '../components/second-factor-form.js'
import { describeError } from '../messages.js'
import type { Navigate } from '../router.js'
import { useAction } from '../use-action.js'

export interface SignInCodeProps {
  /** What the sign-in form held, so nobody types it twice. */
  email: string | undefined
  navigate: Navigate
}

/**
 * `/sign-in-with-code`: the address, then the 6-digit code mailed to it.
 * "We sent a code" is said for any address (SPEC §9: no enumeration).
 */
export function SignInCode({ email: initial, navigate }: SignInCodeProps) {
  const send = useAction(trpcClient.auth.requestSignInCode.mutate)
  const signIn = useSignIn()
  const [email, setEmail] = useState(initial ?? '')
  const [code, setCode] = useState('')
  const [challenge, setChallenge] = useState<LoginChallenge>()
  /** A code was sent: the code field stays from then on. */
  const [sent, setSent] = useState(false)
  /** Which of the two the line reports on: the last one tried. */
  const [sending, setSending] = useState(true)
  const emailField = useRef<HTMLInputElement>(null)
  const codeField = useRef<HTMLInputElement>(null)

  useEffect(() => emailField.current?.focus(), [])
  useEffect(() => {
    if (sent) codeField.current?.focus()
  }, [sent])

  // The app's own page follows the session by itself.
  const signedIn = () => navigate('/', { replace: true })
  if (challenge) return <SecondFactorForm challenge={challenge} onSignedIn={signedIn} />

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null
    // Enter in the code field means "sign in" once a code was asked for.
    const asking = submitter ? submitter.value === 'send' : !sent
    setSending(asking)
    if (asking) {
      if (await send.run({ email })) setSent(true)
      return
    }
    const result = await signIn.signInWithCode({ email, code })
    if (!result) return codeField.current?.select()
    if ('mfaRequired' in result) setChallenge(result)
    else signedIn()
  }

  const failure = sending ? send.error : signIn.error
  const pending = send.pending || signIn.pending
  return (
    <form className="card narrow" data-testid="sign-in-code-form" noValidate onSubmit={submit}>
      <h1>Sign in with a code</h1>
      <EmailField ref={emailField} testId="code-email" value={email} onChange={setEmail} />
      <CodeField
        label="Code from the email"
        hidden={!sent}
        ref={codeField}
        name="code"
        testId="code"
        value={code}
        onChange={setCode}
      />
      <Outcome
        kind="error"
        message={failure ? describeError(failure, sending ? 'other' : 'sign-in-code') : undefined}
      />
      <Outcome
        kind="notice"
        message={
          sent
            ? 'If an account exists for that address, we sent it a code. Enter it below.'
            : undefined
        }
      />
      <div className="actions">
        <button
          type="submit"
          value="sign-in"
          hidden={!sent}
          disabled={pending}
          data-testid="sign-in-with-code"
        >
          Sign in
        </button>
        <button
          type="submit"
          value="send"
          className="secondary"
          disabled={pending}
          data-testid="send-code"
        >
          {sent ? 'Send another code' : 'Email me a code'}
        </button>
      </div>
      <p className="links">
        <AppLink to="/" navigate={navigate} carry={() => ({ email })} data-testid="use-password">
          Sign in with a password
        </AppLink>
      </p>
    </form>
  )
}
