import { readReason } from '@breakwater/client'
import { useMutation } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { describeFailure } from '../messages.js'
import { useTRPC } from '../trpc.js'
import { CodeField } from './code-field.js'
import { Outcome } from './outcome.js'
import { PasskeysSection } from './passkeys-section.js'
import { QrCode } from './qr-code.js'

/** Where the card is: the page does not know up front whether an app is set up (`auth.me` does not say). */
type Step = 'start' | 'scan' | 'codes' | 'enabled'

/** What the status line says at each step; at the start the page cannot tell (see above). */
const STATUS: Record<Step, string> = {
  start: '',
  scan: 'Setting up: not on until a code from the app confirms it.',
  codes: 'On: signing in asks for a code from your authenticator app.',
  enabled: 'On: signing in asks for a code from your authenticator app.',
}

/** "JBSW Y3DP EHPK 3PXP": easier to copy by eye; authenticator apps ignore the spaces. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ')
}

/**
 * The factors beyond the password. Passkeys have their own section.
 *
 * Two-step verification with an authenticator app (SPEC §10, TOTP): set one
 * up (a QR code drawn in this page, the secret for typing in, a first code to
 * confirm), show the 10 recovery codes once, or turn the app off with a code.
 * `auth.me` does not tell whether an app is set up, so the card offers the set-up
 * and learns otherwise from the server (`MFA_ALREADY_ENABLED`). Every call here
 * needs a recent proof of a factor: the re-authentication dialog asks for it
 * when the server wants it.
 */
export default function SecurityCard() {
  const trpc = useTRPC()
  const enroll = useMutation(trpc.mfa.totp.enroll.mutationOptions())
  const confirm = useMutation(trpc.mfa.totp.confirm.mutationOptions())
  const disable = useMutation(trpc.mfa.totp.disable.mutationOptions())
  const [step, setStep] = useState<Step>('start')
  /** The pending key, while scanning; it leaves the page once the app has it. */
  const [key, setKey] = useState<{ secret: string; uri: string }>()
  /** Shown once, then out of the page (not just hidden). */
  const [recoveryCodes, setRecoveryCodes] = useState<readonly string[]>([])
  const [code, setCode] = useState('')
  const [disableCode, setDisableCode] = useState('')
  const [error, setError] = useState<string>()
  const [notice, setNotice] = useState<string>()
  const codeField = useRef<HTMLInputElement>(null)
  const disableField = useRef<HTMLInputElement>(null)
  const savedButton = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (step === 'scan') codeField.current?.focus()
    if (step === 'codes') savedButton.current?.focus()
  }, [step])

  const clear = () => {
    setError(undefined)
    setNotice(undefined)
  }
  const go = (next: Step) => {
    setStep(next)
    clear()
  }

  const setUp = () => {
    clear()
    enroll.mutate(undefined, {
      onSuccess: (enrollment) => {
        setKey(enrollment)
        setCode('')
        go('scan')
      },
      onError: (failure) => {
        if (readReason(failure) !== 'MFA_ALREADY_ENABLED')
          return setError(describeFailure(failure, 'totp'))
        go('enabled')
        setNotice('An authenticator app is already set up. To replace it, turn it off first.')
      },
    })
  }

  const turnOn = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    clear()
    confirm.mutate(
      { code },
      {
        onSuccess: ({ recoveryCodes: codes }) => {
          // The key leaves the page: it is in the app now, and only there.
          setKey(undefined)
          setRecoveryCodes(codes)
          go('codes')
        },
        onError: (failure) => {
          setError(describeFailure(failure, 'totp'))
          codeField.current?.select()
        },
      },
    )
  }

  const turnOff = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    clear()
    disable.mutate(
      { code: disableCode },
      {
        onSuccess: () => {
          setDisableCode('')
          go('start')
          setNotice('Authenticator app turned off, and its recovery codes with it.')
        },
        onError: (failure) => {
          setError(describeFailure(failure, 'totp'))
          disableField.current?.select()
        },
      },
    )
  }

  return (
    <section className="card" data-testid="security-card" data-step={step}>
      <h2>Security</h2>
      <h3>Authenticator app</h3>
      <p
        data-testid="totp-status"
        data-enabled={String(step === 'codes' || step === 'enabled')}
        hidden={step === 'start'}
      >
        {STATUS[step]}
      </p>

      <div hidden={step !== 'start'}>
        <p className="hint">
          With an authenticator app, signing in asks for a 6-digit code from your phone after the
          password.
        </p>
        <div className="actions">
          <button
            type="button"
            disabled={enroll.isPending}
            data-testid="totp-setup"
            onClick={setUp}
          >
            Set up authenticator app
          </button>
        </div>
      </div>

      <form data-testid="totp-setup-form" noValidate hidden={step !== 'scan'} onSubmit={turnOn}>
        <p>Scan this code with your authenticator app:</p>
        {key && (
          <QrCode
            text={key.uri}
            label="QR code of the authenticator app key"
            data-testid="totp-qr"
          />
        )}
        <p className="hint">
          Or enter this key in it by hand:{' '}
          <code className="secret" data-testid="totp-secret">
            {key ? grouped(key.secret) : ''}
          </code>{' '}
          ·{' '}
          <a href={key?.uri} data-testid="totp-uri">
            Open in an authenticator app on this device
          </a>
        </p>
        <CodeField
          label="Then the 6-digit code the app shows"
          ref={codeField}
          name="code"
          testId="totp-code"
          value={code}
          onChange={setCode}
          required
        />
        <div className="actions">
          <button type="submit" disabled={confirm.isPending} data-testid="totp-confirm">
            Turn on
          </button>
          <button
            type="button"
            className="secondary"
            disabled={confirm.isPending}
            data-testid="totp-cancel"
            onClick={() => {
              // The pending key stays unused on the server; the next set-up replaces it.
              setKey(undefined)
              go('start')
            }}
          >
            Cancel
          </button>
        </div>
      </form>

      <div hidden={step !== 'codes'}>
        <p>
          Your recovery codes: each signs you in once if your phone is lost. Keep them somewhere
          safe; they are not shown again.
        </p>
        <ol className="recovery-codes" data-testid="recovery-codes">
          {recoveryCodes.map((one) => (
            <li key={one}>
              <code>{one}</code>
            </li>
          ))}
        </ol>
        <div className="actions">
          <button
            ref={savedButton}
            type="button"
            data-testid="recovery-codes-saved"
            onClick={() => {
              setRecoveryCodes([])
              go('enabled')
            }}
          >
            I saved them
          </button>
        </div>
      </div>

      <form
        data-testid="totp-disable-form"
        noValidate
        hidden={step !== 'enabled'}
        onSubmit={turnOff}
      >
        <CodeField
          label="Code from your authenticator app"
          ref={disableField}
          name="disable-code"
          testId="totp-disable-code"
          value={disableCode}
          onChange={setDisableCode}
          required
        />
        <div className="actions">
          <button
            type="submit"
            className="danger"
            disabled={disable.isPending}
            data-testid="totp-disable"
          >
            Turn off authenticator app
          </button>
        </div>
      </form>

      <Outcome kind="error" message={error} />
      <Outcome kind="notice" message={notice} />
      <PasskeysSection />
    </section>
  )
}
