import { useMutation } from '@tanstack/react-query'
import { type FormEvent, useRef, useState } from 'react'
import { describeFailure } from '../messages.js'
import { useTRPC } from '../trpc.js'
import { CurrentPasswordField } from './current-password-field.js'
import { Outcome } from './outcome.js'

const UNCONFIRMED = 'Tick the box to confirm that the account should be deleted.'

export interface DeleteAccountCardProps {
  /** What the sign-in form should say once the account is gone; `undefined` when it is not. */
  onLeaving(farewell: string | undefined): void
}

/**
 * Deleting the account: the current password and a ticked box, so neither a
 * stray click nor a borrowed unlocked laptop is enough (SPEC §9: the user and
 * its data are gone, every session ends).
 */
export function DeleteAccountCard({ onLeaving }: DeleteAccountCardProps) {
  const trpc = useTRPC()
  const remove = useMutation(
    // Not per call: a session found over meanwhile takes the page away before that would run.
    trpc.auth.deleteAccount.mutationOptions({ onError: () => onLeaving(undefined) }),
  )
  const [password, setPassword] = useState('')
  const [confirmed, setConfirmed] = useState(false)
  const [unconfirmed, setUnconfirmed] = useState(false)
  const passwordField = useRef<HTMLInputElement>(null)

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setUnconfirmed(!confirmed)
    if (!confirmed) return remove.reset()
    // Said from the start, not as the session's end: the live stream may hear of it first.
    onLeaving('Your account was deleted, and every session with it.')
    // The client forgets the session (and tells the other tabs) once this resolves.
    remove.mutate({ currentPassword: password }, { onError: () => passwordField.current?.select() })
  }

  return (
    <form className="card" data-testid="delete-account-form" noValidate onSubmit={submit}>
      <h2>Delete account</h2>
      <p className="hint">
        Deletes this account and its data, and signs out every device. This cannot be undone.
      </p>
      <CurrentPasswordField
        ref={passwordField}
        testId="delete-password"
        value={password}
        onChange={setPassword}
      />
      <label className="check">
        <input
          type="checkbox"
          data-testid="delete-confirm"
          checked={confirmed}
          onChange={(event) => setConfirmed(event.target.checked)}
        />
        I understand: delete my account for good.
      </label>
      <Outcome
        kind="error"
        message={
          unconfirmed
            ? UNCONFIRMED
            : remove.error && describeFailure(remove.error, 'delete-account')
        }
      />
      <div className="actions">
        <button
          type="submit"
          className="danger"
          disabled={remove.isPending}
          data-testid="delete-account"
        >
          Delete account
        </button>
      </div>
    </form>
  )
}
