import type { Api } from '../api.js'
import { appLink, busy, h, type Navigate, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'

export interface ForgotPasswordProps {
  api: Api
  /** What the sign-in form held, so nobody types it twice. */
  email?: string | undefined
  navigate: Navigate
}

/**
 * `/forgot-password`: asks for a reset link. The answer is the same whether
 * or not the address has an account (SPEC §9), so the page says so in those
 * words and never more.
 */
export function forgotPasswordView({ api, email: initial, navigate }: ForgotPasswordProps) {
  const email = h('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
    'data-testid': 'forgot-email',
  })
  email.value = initial ?? ''
  const { error, notice } = outcomeLines()
  const form = h(
    'form',
    { class: 'card narrow', 'data-testid': 'forgot-password-form', novalidate: true },
    h('h1', {}, 'Reset your password'),
    h('p', { class: 'hint' }, 'We will email you a link to choose a new password.'),
    h('label', {}, 'Email', email),
    error,
    notice,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'send-reset-link' }, 'Send reset link'),
    ),
    h(
      'p',
      { class: 'links' },
      appLink('/', 'Back to sign in', navigate, { 'data-testid': 'back-to-sign-in' }, () => ({
        email: email.value,
      })),
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, undefined)
    say(notice, undefined)
    void busy(form, async () => {
      try {
        await api.client.auth.requestPasswordReset.mutate({ email: email.value })
        say(
          notice,
          'If an account exists for that address, we sent it a link to reset the password. Check your inbox.',
        )
      } catch (failure) {
        say(error, describeError(failure, 'other'))
      }
    })
  })
  queueMicrotask(() => email.focus())
  return form
}
