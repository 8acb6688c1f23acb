import { useSignIn } from '@breakwater/react'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { trpcClient as client } from '../api.js'
import { describeError } from '../messages.js'
import { useAction } from '../use-action.js'
import { passkeysSupported } from '../webauthn-support.js'
import { CodeField } from './code-field.js'
import { Outcome } from './outcome.js'

/** What `auth.login` (or `auth.signInWithCode`) answered: the challenge, and how it may be met. */
export interface LoginChallenge {
  challenge: string
  /** `totp`, `recovery_code`, and `passkey` when the account has one. */
  methods: readonly string[]
}

export interface SecondFactorFormProps {
  challenge: LoginChallenge
  /** Signed in: for a page other than the app's own, which follows the session by itself. */
  onSignedIn?: () => void
}

/**
 * The second step of a login (SPEC §10): the password was right and the
 * account has an authenticator app, so the server answered a challenge. A code
 * from the app, one of the recovery codes, or (when the account has one) a
 * passkey finishes the sign-in.
 */
export function SecondFactorForm({
  challenge: { challenge, methods },
  onSignedIn,
}: SecondFactorFormProps) {
  const { verifySecondFactor, pending, error } = useSignIn()
  // Options for this login's user (each counts one of the challenge's attempts), then the answer.
  const passkey = useAction(async () => {
    const options = await client.auth.passkeyOptions.mutate({ challenge })
    const { signWithPasskey } = await import('../webauthn.js')
    const answer = await signWithPasskey(options)
    return client.auth.verifySecondFactor.mutate({ challenge, passkey: answer })
  })
  const [code, setCode] = useState('')
  const [recovery, setRecovery] = useState(false)
  const [usedPasskey, setUsedPasskey] = useState(false)
  const codeField = useRef<HTMLInputElement>(null)

  useEffect(() => codeField.current?.focus(), [])

  const failure = usedPasskey ? passkey.error : error
  const message = failure
    ? describeError(failure, usedPasskey ? 'passkey-second-factor' : 'second-factor')
    : undefined
  const offersPasskey = methods.includes('passkey') && passkeysSupported()

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setUsedPasskey(false)
    const answer = recovery ? { challenge, recoveryCode: code } : { challenge, code }
    if (await verifySecondFactor(answer)) onSignedIn?.()
    else codeField.current?.select()
  }

  return (
    <form className="card narrow" data-testid="second-factor-form" noValidate onSubmit={submit}>
      <h1>Two-step verification</h1>
      <CodeField
        label="Code from your authenticator app"
        ref={codeField}
        name="code"
        testId="second-factor-code"
        value={code}
        onChange={setCode}
      />
      <label className="inline">
        <input
          type="checkbox"
          data-testid="use-recovery-code"
          checked={recovery}
          onChange={(event) => setRecovery(event.target.checked)}
        />
        Use a recovery code instead
      </label>
      <Outcome kind="error" message={message} />
      <div className="actions">
        <button
          type="submit"
          disabled={pending || passkey.pending}
          data-testid="verify-second-factor"
        >
          Verify
        </button>
        {offersPasskey && (
          <button
            type="button"
            className="secondary"
            disabled={pending || passkey.pending}
            data-testid="passkey-second-factor"
            onClick={async () => {
              setUsedPasskey(true)
              if (await passkey.run()) onSignedIn?.()
            }}
          >
            Use a passkey
          </button>
        )}
      </div>
    </form>
  )
}
