import { SessionExpiredError } from '@breakwater/client'
import type { UseSessionResult } from '@breakwater/react'
import { useState } from 'react'
import { auth, ensureFresh } from '../api.js'
import { describeError } from '../messages.js'
import { Outcome } from './outcome.js'

export interface SignOutCardProps {
  session: Pick<UseSessionResult, 'signOut' | 'signOutEverywhere'>
  /** What the sign-in form should say once this tab ended the session; `undefined` when it did not. */
  onLeaving(farewell: string | undefined): void
}

/** Signing out here, or everywhere (every session of the account, on every device). */
export function SignOutCard({ session, onLeaving }: SignOutCardProps) {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string>()

  const leave = async (everywhere: boolean) => {
    setPending(true)
    setError(undefined)
    // Said from the start: the page gives way to the form as soon as the client forgets the session.
    onLeaving(everywhere ? 'Signed out on every device.' : 'Signed out.')
    try {
      await ensureFresh()
      await (everywhere ? session.signOutEverywhere() : session.signOut())
    } catch (failure) {
      // Over already (revoked, expired): the form says that instead.
      if (failure instanceof SessionExpiredError) return onLeaving(undefined)
      // A plain sign-out is forgotten here whatever the server said, or could not be told.
      if (!everywhere) return auth.signOut()
      onLeaving(undefined)
      setPending(false)
      setError(describeError(failure, 'other'))
    }
  }

  return (
    <section className="card">
      <h2>Sign out</h2>
      <p className="hint">“Everywhere” ends every session of this account, on every device.</p>
      <Outcome kind="error" message={error} />
      <div className="actions">
        <button
          type="button"
          className="secondary"
          disabled={pending}
          data-testid="sign-out"
          onClick={() => leave(false)}
        >
          Sign out
        </button>
        <button
          type="button"
          className="danger"
          disabled={pending}
          data-testid="sign-out-everywhere"
          onClick={() => leave(true)}
        >
          Sign out everywhere
        </button>
      </div>
    </section>
  )
}
