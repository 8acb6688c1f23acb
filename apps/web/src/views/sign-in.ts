import type { Api, Me } from '../api.js'
import { appLink, busy, h, type Navigate, say } from '../dom.js'
import { describeError } from '../messages.js'
import { passkeysSupported, usePasskey } from '../webauthn.js'
import { secondFactorView } from './second-factor.js'

export interface SignInProps {
  api: Api
  /** Why we are here (signed out elsewhere, session expired), if there is news. */
  notice?: string | undefined
  /** What to prefill (coming back from the reset or code pages). */
  email?: string | undefined
  navigate: Navigate
  onSignedIn(me: Me): void
}

/**
 * The sign-in / sign-up form. Enter signs in; "Create account" registers;
 * "Sign in with a passkey" needs neither the address nor the password (the
 * browser offers this site's passkeys). Links lead to the password reset and
 * to signing in with a mailed code.
 */
export function signInView({
  api,
  notice,
  email: initial,
  navigate,
  onSignedIn,
}: SignInProps): HTMLElement {
  const email = h('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
    'data-testid': 'email',
  })
  email.value = initial ?? ''
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'password',
  })
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'error', hidden: true })
  const info = h('p', { class: 'notice', role: 'status', 'data-testid': 'notice', hidden: true })
  say(info, notice)
  const signIn = h(
    'button',
    { type: 'submit', value: 'sign-in', 'data-testid': 'sign-in' },
    'Sign in',
  )
  const signUp = h(
    'button',
    { type: 'submit', value: 'sign-up', class: 'secondary', 'data-testid': 'sign-up' },
    'Create account',
  )
  const withPasskey = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'passkey-sign-in' },
    'Sign in with a passkey',
  )
  withPasskey.hidden = !passkeysSupported()
  // The next page prefills the address typed here.
  const typed = () => ({ email: email.value })
  const forgot = { 'data-testid': 'forgot-password' }
  const code = { 'data-testid': 'use-code' }
  const form = h(
    'form',
    { class: 'card', 'data-testid': 'sign-in-form', novalidate: true },
    h('h1', {}, 'Sign in to Breakwater'),
    info,
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('p', { class: 'hint' }, 'New here? Choose a password of at least 12 characters.'),
    error,
    h('div', { class: 'actions' }, signIn, signUp),
    h('div', { class: 'actions alternative' }, withPasskey),
    h(
      'p',
      { class: 'links' },
      appLink('/forgot-password', 'Forgot password?', navigate, forgot, typed),
      appLink('/sign-in-with-code', 'Sign in with a code', navigate, code, typed),
    ),
  )

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null
    const mode = submitter?.value === 'sign-up' ? 'sign-up' : 'sign-in'
    const input = { email: email.value, password: password.value }
    say(error, undefined)
    say(info, undefined)
    void busy(form, async () => {
      try {
        const result =
          mode === 'sign-up'
            ? await api.client.auth.register.mutate(input)
            : await api.client.auth.login.mutate(input)
        password.value = ''
        if ('mfaRequired' in result) form.replaceWith(secondFactorView(api, result, onSignedIn))
        else onSignedIn({ user: result.user, session: result.session })
      } catch (failure) {
        say(error, describeError(failure, mode))
        password.select()
      }
    })
  })
  // Two requests: the options (a challenge for any passkey of this site), then the signed answer.
  withPasskey.addEventListener('click', () => {
    say(error, undefined)
    say(info, undefined)
    void busy(form, async () => {
      try {
        const options = await api.client.auth.passkeyOptions.mutate()
        const response = await usePasskey(options)
        const result = await api.client.auth.loginWithPasskey.mutate({ response })
        password.value = ''
        onSignedIn({ user: result.user, session: result.session })
      } catch (failure) {
        say(error, describeError(failure, 'passkey-sign-in'))
      }
    })
  })
  queueMicrotask(() => email.focus())
  return form
}
