import { type FormEvent, useEffect, useRef, useState } from 'react'
import { trpcClient } from '../api.js'
import { AppLink } from '../components/app-link.js'
import { EmailField } from '../components/email-field.js'
import { Outcome } from '../components/outcome.js'
import { describeError } from '../messages.js'
import type { Navigate } from '../router.js'
import { useAction } from '../use-action.js'

export interface ForgotPasswordProps {
  /** What the sign-in form held, so nobody types it twice. */
  email: string | undefined
  navigate: Navigate
}

/**
 * `/forgot-password`: asks for a reset link. The answer is the same whether
 * or not the address has an account (SPEC §9), so the page says so in those
 * words and never more.
 */
export function ForgotPassword({ email: initial, navigate }: ForgotPasswordProps) {
  const request = useAction(trpcClient.auth.requestPasswordReset.mutate)
  const [email, setEmail] = useState(initial ?? '')
  const emailField = useRef<HTMLInputElement>(null)

  useEffect(() => emailField.current?.focus(), [])

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    request.run({ email })
  }

  return (
    <form className="card narrow" data-testid="forgot-password-form" noValidate onSubmit={submit}>
      <h1>Reset your password</h1>
      <p className="hint">We will email you a link to choose a new password.</p>
      <EmailField ref={emailField} testId="forgot-email" value={email} onChange={setEmail} />
      <Outcome
        kind="error"
        message={request.error ? describeError(request.error, 'other') : undefined}
      />
      <Outcome
        kind="notice"
        message={
          request.status === 'success'
            ? 'If an account exists for that address, we sent it a link to reset the password. Check your inbox.'
            : undefined
        }
      />
      <div className="actions">
        <button type="submit" disabled={request.pending} data-testid="send-reset-link">
          Send reset link
        </button>
      </div>
      <p className="links">
        <AppLink to="/" navigate={navigate} carry={() => ({ email })} data-testid="back-to-sign-in">
          Back to sign in
        </AppLink>
      </p>
    </form>
  )
}
