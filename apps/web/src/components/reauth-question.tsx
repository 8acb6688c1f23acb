import { SessionExpiredError } from '@breakwater/client'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { reauthPrompt } from '../api.js'
import { describeError } from '../messages.js'
import { useTRPCClient } from '../trpc.js'
import type { Assertion } from '../webauthn.js'
import { passkeysSupported } from '../webauthn-support.js'
import { CodeField } from './code-field.js'
import { Outcome } from './outcome.js'

/** What `auth.reauthenticate` takes: one proof of a factor. */
type ReauthInput = { password: string } | { code: string } | { passkey: Assertion }

const NO_PASSKEY = 'This account has no passkey yet: confirm with your password or a code.'

/**
 * The step-up prompt, a modal `<dialog>`: the server refused a credential
 * change (password, email, factors, deletion) because the session last proved
 * a factor too long ago. The password, or a code from the authenticator app,
 * or one of the user's passkeys renews that proof; the client then retries the
 * refused call by itself, so the form behind keeps what was typed in it.
 * Every way out (Confirm, Cancel, Escape) answers the client's question once.
 */
export function ReauthQuestion() {
  const client = useTRPCClient()
  const [useCode, setUseCode] = useState(false)
  const [password, setPassword] = useState('')
  const [code, setCode] = useState('')
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string>()
  const dialog = useRef<HTMLDialogElement>(null)
  const passwordField = useRef<HTMLInputElement>(null)
  const codeField = useRef<HTMLInputElement>(null)

  useEffect(() => dialog.current?.showModal(), [])
  useEffect(() => (useCode ? codeField : passwordField).current?.focus(), [useCode])

  /** One proof sent: accepted answers `true`; refused says why and stays. */
  const prove = async (proof: () => Promise<ReauthInput | undefined>, passkey: boolean) => {
    setError(undefined)
    setPending(true)
    try {
      const input = await proof()
      if (input === undefined) return
      // The answer is a fresh access cookie carrying the new `auth_time` (the client keeps its expiry).
      await client.auth.reauthenticate.mutate(input)
      reauthPrompt.answer(true)
    } catch (failure) {
      // The session is over: the page gives way to the sign-in form; the refused call just fails.
      if (failure instanceof SessionExpiredError) return reauthPrompt.answer(false)
      setError(describeError(failure, passkey ? 'reauthenticate-passkey' : 'reauthenticate'))
      if (!passkey) (useCode ? codeField : passwordField).current?.select()
    } finally {
      setPending(false)
    }
  }

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    void prove(async () => (useCode ? { code } : { password }), false)
  }

  const withPasskey = () =>
    prove(async () => {
      const options = await client.passkeys.reauthenticationOptions.mutate()
      // None registered: the browser would offer any passkey of this site, and the server refuse it.
      if ((options.allowCredentials ?? []).length === 0) {
        setError(NO_PASSKEY)
        return undefined
      }
      const { signWithPasskey } = await import('../webauthn.js')
      return { passkey: await signWithPasskey(options) }
    }, true)

  return (
    <dialog
      ref={dialog}
      className="card"
      data-testid="reauth-dialog"
      aria-labelledby="reauth-title"
      onClose={() => reauthPrompt.answer(false)}
    >
      <form noValidate onSubmit={submit}>
        <h2 id="reauth-title">Confirm it is you</h2>
        <p className="hint">
          This change needs a recent proof that it is you. Your form stays as you filled it.
        </p>
        <label hidden={useCode}>
          Password
          <input
            ref={passwordField}
            type="password"
            name="password"
            autoComplete="current-password"
            data-testid="reauth-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <CodeField
          label="Code from your authenticator app"
          hidden={!useCode}
          ref={codeField}
          name="code"
          testId="reauth-code"
          value={code}
          onChange={setCode}
        />
        <label className="check">
          <input
            type="checkbox"
            data-testid="reauth-use-code"
            checked={useCode}
            onChange={(event) => {
              setUseCode(event.target.checked)
              setError(undefined)
            }}
          />
          Use a code from my authenticator app instead
        </label>
        <Outcome kind="error" message={error} />
        <div className="actions">
          <button type="submit" disabled={pending} data-testid="reauth-submit">
            Confirm
          </button>
          <button
            type="button"
            className="secondary"
            hidden={!passkeysSupported()}
            disabled={pending}
            data-testid="reauth-passkey"
            onClick={withPasskey}
          >
            Use a passkey
          </button>
          <button
            type="button"
            className="secondary"
            data-testid="reauth-cancel"
            onClick={() => reauthPrompt.answer(false)}
          >
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  )
}
