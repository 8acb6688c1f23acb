import { useEffect } from 'react'
import { AppLink } from '../components/app-link.js'
import { Outcome } from '../components/outcome.js'
import { describeError } from '../messages.js'
import type { Navigate } from '../router.js'
import { useAction } from '../use-action.js'

export interface LinkActionProps {
  title: string
  /** From the mailed link, already gone from the address bar (link-token.ts). */
  token: string | undefined
  /** The one call the link is for. */
  use(token: string): Promise<unknown>
  /** Said when it worked. */
  done: string
  navigate: Navigate
}

const NO_TOKEN = 'This page needs the link from the email. Open that link again.'

/**
 * A page that spends a mailed link's token on load (`/verify-email`,
 * `/confirm-email-change`) and says how it went. `data-state` on the card is
 * `pending`, then `done` or `failed`, for tests and styles.
 */
export function LinkAction({ title, token, use, done, navigate }: LinkActionProps) {
  const { run, status, error } = useAction(use)
  useEffect(() => {
    if (token) run(token)
  }, [token, run])

  const failure = error ? describeError(error, 'link') : undefined
  const state = !token || status === 'error' ? 'failed' : status === 'success' ? 'done' : 'pending'
  return (
    <section className="card narrow" data-testid="link-page" data-state={state}>
      <h1>{title}</h1>
      {state === 'pending' && <p className="muted">Checking the link…</p>}
      <Outcome kind="error" message={token ? failure : NO_TOKEN} />
      <Outcome kind="notice" message={state === 'done' ? done : undefined} />
      <p className="links" hidden={state === 'pending'}>
        <AppLink to="/" navigate={navigate} data-testid="continue">
          Continue to Breakwater
        </AppLink>
      </p>
    </section>
  )
}
