import { useMutation, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { describeFailure } from '../messages.js'
import { useTRPC } from '../trpc.js'
import { CurrentPasswordField } from './current-password-field.js'
import { Outcome } from './outcome.js'

/** A new password, given the current one. Every other session of the account ends. */
export function ChangePasswordCard() {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      // The other sessions are gone from the list; `auth.me` is read again with them.
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.auth.me.queryFilter()),
          queryClient.invalidateQueries(trpc.sessions.list.queryFilter()),
        ]),
    }),
  )
  const [currentPassword, setCurrentPassword] = useState('')
  const [newPassword, setNewPassword] = useState('')

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    change.mutate(
      { currentPassword, newPassword },
      {
        onSuccess: () => {
          setCurrentPassword('')
          setNewPassword('')
        },
      },
    )
  }

  return (
    <form className="card" noValidate onSubmit={submit}>
      <h2>Change password</h2>
      <CurrentPasswordField
        testId="current-password"
        value={currentPassword}
        onChange={setCurrentPassword}
      />
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          required
          data-testid="new-password"
          value={newPassword}
          onChange={(event) => setNewPassword(event.target.value)}
        />
      </label>
      <Outcome
        kind="error"
        message={change.error && describeFailure(change.error, 'change-password')}
      />
      <Outcome
        kind="notice"
        message={
          change.isSuccess ? 'Password changed. Every other session was signed out.' : undefined
        }
      />
      <div className="actions">
        <button type="submit" disabled={change.isPending} data-testid="change-password">
          Change password
        </button>
      </div>
    </form>
  )
}
