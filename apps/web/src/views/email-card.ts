import type { Api, Me } from '../api.js'
import { busy, h, outcomeLines, say } from '../dom.js'
import type { Fail } from '../messages.js'

export interface EmailCardProps {
  api: Api
  me: Me
  fail: Fail
}

export interface EmailCard {
  element: HTMLElement
  /** A fresh `auth.me` (on focus, after a change): the address or its status may have changed in another tab. */
  update(me: Me): void
}

/**
 * The signed-in user's address: whether it is verified (with a button that
 * mails a new verification link), and a form to change it. A change takes
 * effect only when the link mailed to the new address is opened (SPEC §9).
 */
export function emailCard({ api, me, fail }: EmailCardProps): EmailCard {
  const { client } = api

  // Verification
  const address = h('strong', { 'data-testid': 'account-email' })
  const status = h('span', { class: 'badge', 'data-testid': 'email-status' })
  const sendVerification = h(
    'button',
    { type: 'submit', class: 'secondary', 'data-testid': 'send-verification' },
    'Send verification email',
  )
  const verify = outcomeLines()
  const verifyForm = h(
    'form',
    { 'data-testid': 'verify-email-form', novalidate: true },
    h('p', {}, address, ' ', status),
    verify.error,
    verify.notice,
    h('div', { class: 'actions' }, sendVerification),
  )
  verifyForm.addEventListener('submit', (event) => {
    event.preventDefault()
    say(verify.error, undefined)
    say(verify.notice, undefined)
    void busy(verifyForm, async () => {
      try {
        await client.auth.requestEmailVerification.mutate()
        say(verify.notice, `We sent a verification link to ${me.user.email}. It works once.`)
      } catch (failure) {
        fail(failure, verify.error, 'other')
      }
    })
  })

  // Change
  const newEmail = h('input', {
    type: 'email',
    name: 'new-email',
    autocomplete: 'email',
    required: true,
    'data-testid': 'new-email',
  })
  const currentPassword = h('input', {
    type: 'password',
    name: 'current-password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'change-email-password',
  })
  const change = outcomeLines()
  const changeForm = h(
    'form',
    { 'data-testid': 'change-email-form', novalidate: true },
    h('h3', {}, 'Change email'),
    h('label', {}, 'New email', newEmail),
    h('label', {}, 'Current password', currentPassword),
    change.error,
    change.notice,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'change-email' }, 'Change email'),
    ),
  )
  changeForm.addEventListener('submit', (event) => {
    event.preventDefault()
    say(change.error, undefined)
    say(change.notice, undefined)
    void busy(changeForm, async () => {
      const target = newEmail.value.trim()
      try {
        await client.auth.requestEmailChange.mutate({
          newEmail: target,
          currentPassword: currentPassword.value,
        })
        currentPassword.value = ''
        newEmail.value = ''
        say(
          change.notice,
          `We sent a link to ${target}. Your address changes when you open it; until then it stays ${me.user.email}.`,
        )
      } catch (failure) {
        fail(failure, change.error, 'change-email')
        currentPassword.select()
      }
    })
  })

  const update = (current: Me) => {
    me = current
    if (address.textContent !== current.user.email) address.textContent = current.user.email
    const verified = current.user.emailVerified
    status.textContent = verified ? 'Verified' : 'Not verified'
    status.dataset.verified = String(verified)
    status.classList.toggle('muted-badge', !verified)
    sendVerification.hidden = verified
  }
  update(me)

  const element = h(
    'section',
    { class: 'card', 'data-testid': 'email-card' },
    h('h2', {}, 'Email'),
    verifyForm,
    changeForm,
  )
  return { element, update }
}
