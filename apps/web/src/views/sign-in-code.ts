import type { Api, Me } from '../api.js'
import { appLink, busy, h, type Navigate, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'
import { secondFactorView } from './second-factor.js'

export interface SignInCodeProps {
  api: Api
  /** What the sign-in form held, so nobody types it twice. */
  email?: string | undefined
  navigate: Navigate
  onSignedIn(me: Me): void
}

/**
 * `/sign-in-with-code`: the address, then the 6-digit code mailed to it.
 * "We sent a code" is said for any address (SPEC §9: no enumeration).
 */
export function signInCodeView({ api, email: initial, navigate, onSignedIn }: SignInCodeProps) {
  const email = h('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
    'data-testid': 'code-email',
  })
  email.value = initial ?? ''
  const code = h('input', {
    type: 'text',
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    'data-testid': 'code',
  })
  const { error, notice } = outcomeLines()
  const send = h(
    'button',
    { type: 'submit', value: 'send', class: 'secondary', 'data-testid': 'send-code' },
    'Email me a code',
  )
  const signIn = h(
    'button',
    { type: 'submit', value: 'sign-in', 'data-testid': 'sign-in-with-code' },
    'Sign in',
  )
  const codeLabel = h('label', { hidden: true }, 'Code from the email', code)
  signIn.hidden = true
  const form = h(
    'form',
    { class: 'card narrow', 'data-testid': 'sign-in-code-form', novalidate: true },
    h('h1', {}, 'Sign in with a code'),
    h('label', {}, 'Email', email),
    codeLabel,
    error,
    notice,
    h('div', { class: 'actions' }, signIn, send),
    h(
      'p',
      { class: 'links' },
      appLink('/', 'Sign in with a password', navigate, { 'data-testid': 'use-password' }, () => ({
        email: email.value,
      })),
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null
    // Enter in the code field means "sign in" once a code was asked for.
    const sending = submitter ? submitter.value === 'send' : signIn.hidden
    say(error, undefined)
    void busy(form, async () => {
      try {
        if (sending) {
          await api.client.auth.requestSignInCode.mutate({ email: email.value })
          say(notice, 'If an account exists for that address, we sent it a code. Enter it below.')
          codeLabel.hidden = false
          signIn.hidden = false
          send.textContent = 'Send another code'
          code.focus()
          return
        }
        const result = await api.client.auth.signInWithCode.mutate({
          email: email.value,
          code: code.value,
        })
        if ('mfaRequired' in result) form.replaceWith(secondFactorView(api, result, onSignedIn))
        else onSignedIn({ user: result.user, session: result.session })
      } catch (failure) {
        say(error, describeError(failure, sending ? 'other' : 'sign-in-code'))
        if (!sending) code.select()
      }
    })
  })
  queueMicrotask(() => email.focus())
  return form
}
