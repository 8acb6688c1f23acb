import { SessionExpiredError } from '@breakwater/client'
import { busy, h, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'
import { type Assertion, passkeysSupported, type RequestOptions, usePasskey } from '../webauthn.js'

/** What `auth.reauthenticate` takes: one proof of a factor. */
export type ReauthInput = { password: string } | { code: string } | { passkey: Assertion }

export interface ReauthDialog {
  /**
   * Asks the user to prove it is them again; `true` once `auth.reauthenticate`
   * accepted the proof, `false` when they cancelled. One dialog at a time:
   * asking while it is open shares the open one's answer.
   */
  ask(): Promise<boolean>
  /** The session ended meanwhile: close without an answer (`false`). */
  dismiss(): void
}

/**
 * The step-up prompt (SPEC §10), a modal `<dialog>`: the server refused a
 * credential change (password, email, factors, deletion) because the session
 * last proved a factor too long ago. The password, or a code from the
 * authenticator app, or one of the user's passkeys renews that proof; the
 * client then retries the refused call by itself, so the form behind keeps
 * what was typed in it. `passkeyOptions` asks the server which passkeys may answer.
 */
export function reauthDialog(
  reauthenticate: (input: ReauthInput) => Promise<unknown>,
  passkeyOptions: () => Promise<RequestOptions>,
): ReauthDialog {
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    'data-testid': 'reauth-password',
  })
  const code = h('input', {
    type: 'text',
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    'data-testid': 'reauth-code',
  })
  const passwordLabel = h('label', {}, 'Password', password)
  const codeLabel = h('label', { hidden: true }, 'Code from your authenticator app', code)
  const useCode = h('input', { type: 'checkbox', 'data-testid': 'reauth-use-code' })
  const withPasskey = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'reauth-passkey' },
    'Use a passkey',
  )
  withPasskey.hidden = !passkeysSupported()
  const { error } = outcomeLines()
  const cancel = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'reauth-cancel' },
    'Cancel',
  )
  const form = h(
    'form',
    { novalidate: true },
    h('h2', { id: 'reauth-title' }, 'Confirm it is you'),
    h(
      'p',
      { class: 'hint' },
      'This change needs a recent proof that it is you. Your form stays as you filled it.',
    ),
    passwordLabel,
    codeLabel,
    h('label', { class: 'check' }, useCode, 'Use a code from my authenticator app instead'),
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'reauth-submit' }, 'Confirm'),
      withPasskey,
      cancel,
    ),
  )
  const dialog = h(
    'dialog',
    { class: 'card', 'data-testid': 'reauth-dialog', 'aria-labelledby': 'reauth-title' },
    form,
  )

  let pending: Promise<boolean> | undefined
  let answer = false
  let settle: ((done: boolean) => void) | undefined

  const field = () => (useCode.checked ? code : password)
  useCode.addEventListener('change', () => {
    passwordLabel.hidden = useCode.checked
    codeLabel.hidden = !useCode.checked
    say(error, undefined)
    field().focus()
  })

  // Every way out (Confirm, Cancel, Escape, dismiss) ends here, so the answer is given once.
  dialog.addEventListener('close', () => {
    password.value = ''
    code.value = ''
    dialog.remove()
    const resolve = settle
    settle = undefined
    pending = undefined
    resolve?.(answer)
  })
  cancel.addEventListener('click', () => dialog.close())

  /** One proof sent: accepted closes the dialog with `true`; refused says why and stays. */
  const prove = (proof: () => Promise<ReauthInput | undefined>, passkey: boolean) => {
    say(error, undefined)
    void busy(form, async () => {
      try {
        const input = await proof()
        if (input === undefined) return
        await reauthenticate(input)
        answer = true
        dialog.close()
      } catch (failure) {
        // The session is over: main.ts shows the sign-in form; the refused call just fails.
        if (failure instanceof SessionExpiredError) return dialog.close()
        say(error, describeError(failure, passkey ? 'reauthenticate-passkey' : 'reauthenticate'))
        if (!passkey) field().select()
      }
    })
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    prove(
      async () => (useCode.checked ? { code: code.value } : { password: password.value }),
      false,
    )
  })

  withPasskey.addEventListener('click', () =>
    prove(async () => {
      const options = await passkeyOptions()
      // None registered: the browser would offer any passkey of this site, and the server refuse it.
      if ((options.allowCredentials ?? []).length === 0) {
        say(error, 'This account has no passkey yet: confirm with your password or a code.')
        return undefined
      }
      return { passkey: await usePasskey(options) }
    }, true),
  )

  return {
    ask() {
      if (pending) return pending
      pending = new Promise<boolean>((resolve) => {
        settle = resolve
      })
      answer = false
      useCode.checked = false
      passwordLabel.hidden = false
      codeLabel.hidden = true
      say(error, undefined)
      document.body.append(dialog)
      dialog.showModal()
      password.focus()
      return pending
    },
    dismiss() {
      if (dialog.open) dialog.close()
    },
  }
}
