import type { Api, Me } from '../api.js'
import { busy, h, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'
import { passkeysSupported, usePasskey } from '../webauthn.js'

/** What `auth.login` (or `auth.signInWithCode`) answered: the challenge, and how it may be met. */
export interface LoginChallenge {
  challenge: string
  /** `totp`, `recovery_code`, and `passkey` when the account has one. */
  methods: readonly string[]
}

/**
 * The second step of a login (SPEC §10): the password was right and the
 * account has an authenticator app, so the server answered a challenge. A code
 * from the app, one of the recovery codes, or (when the account has one) a
 * passkey finishes the sign-in.
 */
export function secondFactorView(
  api: Api,
  { challenge, methods }: LoginChallenge,
  onSignedIn: (me: Me) => void,
): HTMLFormElement {
  const code = h('input', {
    type: 'text',
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    'data-testid': 'second-factor-code',
  })
  const recovery = h('input', { type: 'checkbox', 'data-testid': 'use-recovery-code' })
  const { error, notice } = outcomeLines()
  const withPasskey =
    methods.includes('passkey') && passkeysSupported()
      ? h(
          'button',
          { type: 'button', class: 'secondary', 'data-testid': 'passkey-second-factor' },
          'Use a passkey',
        )
      : undefined
  const form = h(
    'form',
    { class: 'card narrow', 'data-testid': 'second-factor-form', novalidate: true },
    h('h1', {}, 'Two-step verification'),
    h('label', {}, 'Code from your authenticator app', code),
    h('label', { class: 'inline' }, recovery, 'Use a recovery code instead'),
    error,
    notice,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'verify-second-factor' }, 'Verify'),
      withPasskey,
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, undefined)
    void busy(form, async () => {
      try {
        const answer = recovery.checked ? { recoveryCode: code.value } : { code: code.value }
        const result = await api.client.auth.verifySecondFactor.mutate({ challenge, ...answer })
        onSignedIn({ user: result.user, session: result.session })
      } catch (failure) {
        say(error, describeError(failure, 'second-factor'))
        code.select()
      }
    })
  })
  // Options for this login's user (each counts one of the challenge's attempts), then the answer.
  withPasskey?.addEventListener('click', () => {
    say(error, undefined)
    void busy(form, async () => {
      try {
        const options = await api.client.auth.passkeyOptions.mutate({ challenge })
        const passkey = await usePasskey(options)
        const result = await api.client.auth.verifySecondFactor.mutate({ challenge, passkey })
        onSignedIn({ user: result.user, session: result.session })
      } catch (failure) {
        say(error, describeError(failure, 'passkey-second-factor'))
      }
    })
  })
  queueMicrotask(() => code.focus())
  return form
}
