import type { Api } from '../api.js'
import { appLink, busy, h, type Navigate, outcomeLines, say } from '../dom.js'
import { describeError, LINK_INVALID_MESSAGE } from '../messages.js'

export interface ResetPasswordProps {
  api: Api
  /** From the mailed link, already gone from the address bar (link-token.ts). */
  token: string | undefined
  navigate: Navigate
}

const NO_TOKEN =
  'This page needs the link from the email. Open that link again, or request a new one.'

/**
 * `/reset-password`: a new password (typed twice) for the account the link
 * names. The token stays in memory only; a refused password leaves it usable
 * (the server checks the policy before spending it), an invalid link does not.
 */
export function resetPasswordView({ api, token, navigate }: ResetPasswordProps): HTMLElement {
  const password = h('input', {
    type: 'password',
    name: 'new-password',
    autocomplete: 'new-password',
    required: true,
    'data-testid': 'new-password',
  })
  const confirm = h('input', {
    type: 'password',
    name: 'confirm-password',
    autocomplete: 'new-password',
    required: true,
    'data-testid': 'confirm-password',
  })
  const { error, notice } = outcomeLines()
  const submit = h('button', { type: 'submit', 'data-testid': 'reset-password' }, 'Set password')
  const fields = h(
    'div',
    {},
    h('label', {}, 'New password', password),
    h('label', {}, 'New password, again', confirm),
    h('p', { class: 'hint' }, 'At least 12 characters. Every session of the account will end.'),
  )
  const retry = h(
    'p',
    { class: 'links', hidden: true },
    appLink('/forgot-password', 'Request a new link', navigate, {
      'data-testid': 'request-new-link',
    }),
  )
  const signInLink = h(
    'p',
    { class: 'links', hidden: true },
    appLink('/', 'Sign in', navigate, { 'data-testid': 'sign-in-link' }),
  )
  const actions = h('div', { class: 'actions' }, submit)
  const form = h(
    'form',
    { class: 'card narrow', 'data-testid': 'reset-password-form', novalidate: true },
    h('h1', {}, 'Choose a new password'),
    fields,
    error,
    notice,
    actions,
    retry,
    signInLink,
  )
  /** The link cannot work (missing, used, expired): no form, a way to get a new one. */
  const dead = (message: string) => {
    fields.hidden = true
    actions.hidden = true
    token = undefined
    say(error, message)
    retry.hidden = false
  }
  if (!token) {
    dead(NO_TOKEN)
    return form
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, undefined)
    if (password.value !== confirm.value) {
      say(error, 'The two passwords differ. Type the same one twice.')
      confirm.select()
      return
    }
    const linkToken = token
    if (!linkToken) return
    void busy(form, async () => {
      try {
        await api.client.auth.resetPassword.mutate({
          token: linkToken,
          newPassword: password.value,
        })
        token = undefined
        password.value = ''
        confirm.value = ''
        fields.hidden = true
        actions.hidden = true
        say(notice, 'Your password is changed, and every session was signed out. Sign in with it.')
        signInLink.hidden = false
      } catch (failure) {
        const message = describeError(failure, 'link')
        if (message === LINK_INVALID_MESSAGE) return dead(message)
        say(error, message)
        password.select()
      }
    })
  })
  queueMicrotask(() => password.focus())
  return form
}
