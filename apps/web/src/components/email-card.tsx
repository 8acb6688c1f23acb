import { useMutation } from '@tanstack/react-query'
import { type FormEvent, useRef, useState } from 'react'
import type { Me } from '../api.js'
import { describeFailure } from '../messages.js'
import { useTRPC } from '../trpc.js'
import { CurrentPasswordField } from './current-password-field.js'
import { Outcome } from './outcome.js'

/**
 * The signed-in user's address: whether it is verified (with a button that
 * mails a new verification link), and a form to change it. A change takes
 * effect only when the link mailed to the new address is opened (SPEC §9).
 */
export function EmailCard({ me }: { me: Me }) {
  const trpc = useTRPC()
  const verify = useMutation(trpc.auth.requestEmailVerification.mutationOptions())
  const change = useMutation(trpc.auth.requestEmailChange.mutationOptions())
  const [newEmail, setNewEmail] = useState('')
  const [currentPassword, setCurrentPassword] = useState('')
  const passwordField = useRef<HTMLInputElement>(null)
  const { email, emailVerified } = me.user

  const sendVerification = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    verify.mutate()
  }

  const requestChange = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    change.mutate(
      { newEmail: newEmail.trim(), currentPassword },
      {
        onSuccess: () => {
          setNewEmail('')
          setCurrentPassword('')
        },
        onError: () => passwordField.current?.select(),
      },
    )
  }

  return (
    <section className="card" data-testid="email-card">
      <h2>Email</h2>
      <form data-testid="verify-email-form" noValidate onSubmit={sendVerification}>
        <p>
          <strong data-testid="account-email">{email}</strong>{' '}
          <span
            className={emailVerified ? 'badge' : 'badge muted-badge'}
            data-testid="email-status"
            data-verified={String(emailVerified)}
          >
            {emailVerified ? 'Verified' : 'Not verified'}
          </span>
        </p>
        <Outcome kind="error" message={verify.error && describeFailure(verify.error, 'other')} />
        <Outcome
          kind="notice"
          message={
            verify.isSuccess ? `We sent a verification link to ${email}. It works once.` : undefined
          }
        />
        <div className="actions">
          <button
            type="submit"
            className="secondary"
            hidden={emailVerified}
            disabled={verify.isPending}
            data-testid="send-verification"
          >
            Send verification email
          </button>
        </div>
      </form>
      <form data-testid="change-email-form" noValidate onSubmit={requestChange}>
        <h3>Change email</h3>
        <label>
          New email
          <input
            type="email"
            name="new-email"
            autoComplete="email"
            required
            data-testid="new-email"
            value={newEmail}
            onChange={(event) => setNewEmail(event.target.value)}
          />
        </label>
        <CurrentPasswordField
          ref={passwordField}
          testId="change-email-password"
          value={currentPassword}
          onChange={setCurrentPassword}
        />
        <Outcome
          kind="error"
          message={change.error && describeFailure(change.error, 'change-email')}
        />
        <Outcome
          kind="notice"
          message={
            change.isSuccess
              ? `We sent a link to ${change.variables.newEmail}. Your address changes when you open it; until then it stays ${email}.`
              : undefined
          }
        />
        <div className="actions">
          <button type="submit" disabled={change.isPending} data-testid="change-email">
            Change email
          </button>
        </div>
      </form>
    </section>
  )
}
