import { type FormEvent, useEffect, useRef, useState } from 'react'
import { trpcClient } from '../api.js'
import { AppLink } from '../components/app-link.js'
import { Outcome } from '../components/outcome.js'
import { describeError, LINK_INVALID_MESSAGE } from '../messages.js'
import type { Navigate } from '../router.js'
import { useAction } from '../use-action.js'

export interface ResetPasswordProps {
  /** From the mailed link, already gone from the address bar (link-token.ts). */
  token: string | undefined
  navigate: Navigate
}

const NO_TOKEN =
  'This page needs the link from the email. Open that link again, or request a new one.'
const DIFFERENT = 'The two passwords differ. Type the same one twice.'

/**
 * `/reset-password`: a new password (typed twice) for the account the link
 * names. The token stays in memory only; a refused password leaves it usable
 * (the server checks the policy before spending it), an invalid link does not.
 */
export function ResetPassword({ token, navigate }: ResetPasswordProps) {
  const reset = useAction(trpcClient.auth.resetPassword.mutate)
  const [password, setPassword] = useState('')
  const [confirm, setConfirm] = useState('')
  const [differ, setDiffer] = useState(false)
  const passwordField = useRef<HTMLInputElement>(null)
  const confirmField = useRef<HTMLInputElement>(null)

  useEffect(() => passwordField.current?.focus(), [])

  const failure = reset.error ? describeError(reset.error, 'link') : undefined
  /** The link cannot work (missing, used, expired): no form, a way to get a new one. */
  const dead = !token || failure === LINK_INVALID_MESSAGE
  const done = reset.status === 'success'

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    if (!token) return
    setDiffer(password !== confirm)
    if (password !== confirm) {
      reset.reset()
      return confirmField.current?.select()
    }
    if (!(await reset.run({ token, newPassword: password }))) return passwordField.current?.select()
    setPassword('')
    setConfirm('')
  }

  return (
    <form className="card narrow" data-testid="reset-password-form" noValidate onSubmit={submit}>
      <h1>Choose a new password</h1>
      <div hidden={dead || done}>
        <label>
          New password
          <input
            ref={passwordField}
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            data-testid="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <label>
          New password, again
          <input
            ref={confirmField}
            type="password"
            name="confirm-password"
            autoComplete="new-password"
            required
            data-testid="confirm-password"
            value={confirm}
            onChange={(event) => setConfirm(event.target.value)}
          />
        </label>
        <p className="hint">At least 12 characters. Every session of the account will end.</p>
      </div>
      <Outcome kind="error" message={token ? (differ ? DIFFERENT : failure) : NO_TOKEN} />
      <Outcome
        kind="notice"
        message={
          done
            ? 'Your password is changed, and every session was signed out. Sign in with it.'
            : undefined
        }
      />
      <div className="actions" hidden={dead || done}>
        <button type="submit" disabled={reset.pending} data-testid="reset-password">
          Set password
        </button>
      </div>
      <p className="links" hidden={!dead}>
        <AppLink to="/forgot-password" navigate={navigate} data-testid="request-new-link">
          Request a new link
        </AppLink>
      </p>
      <p className="links" hidden={!done}>
        <AppLink to="/" navigate={navigate} data-testid="sign-in-link">
          Sign in
        </AppLink>
      </p>
    </form>
  )
}
