import type { Api, Me } from '../api.js'
import { busy, h, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'

/**
 * The second step of a login (SPEC §10): the password was right and the
 * account has an authenticator app, so the server answered a challenge. A code
 * from the app, or one of the recovery codes, finishes the sign-in.
 */
export function secondFactorView(
  api: Api,
  challenge: string,
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
  queueMicrotask(() => code.focus())
  return form
}
