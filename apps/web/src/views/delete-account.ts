import type { Api } from '../api.js'
import { busy, h, outcomeLines, say } from '../dom.js'
import type { Fail } from '../messages.js'

export interface DeleteAccountProps {
  api: Api
  fail: Fail
  /** The account is gone, and with it every session. */
  onDeleted(): void
}

/**
 * Deleting the account: the current password and a ticked box, so neither a
 * stray click nor a borrowed unlocked laptop is enough (SPEC §9: the user and
 * its data are gone, every session ends).
 */
export function deleteAccountCard({ api, fail, onDeleted }: DeleteAccountProps): HTMLElement {
  const password = h('input', {
    type: 'password',
    name: 'current-password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'delete-password',
  })
  const confirm = h('input', { type: 'checkbox', 'data-testid': 'delete-confirm' })
  const { error, notice } = outcomeLines()
  const form = h(
    'form',
    { class: 'card', 'data-testid': 'delete-account-form', novalidate: true },
    h('h2', {}, 'Delete account'),
    h(
      'p',
      { class: 'hint' },
      'Deletes this account and its data, and signs out every device. This cannot be undone.',
    ),
    h('label', {}, 'Current password', password),
    h('label', { class: 'check' }, confirm, 'I understand: delete my account for good.'),
    error,
    notice,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'submit', class: 'danger', 'data-testid': 'delete-account' },
        'Delete account',
      ),
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, undefined)
    if (!confirm.checked) {
      say(error, 'Tick the box to confirm that the account should be deleted.')
      return
    }
    void busy(form, async () => {
      try {
        await api.client.auth.deleteAccount.mutate({ currentPassword: password.value })
        // The client forgets the session (and tells the other tabs) once this resolves.
        password.value = ''
        onDeleted()
      } catch (failure) {
        fail(failure, error, 'delete-account')
        password.select()
      }
    })
  })
  return form
}
