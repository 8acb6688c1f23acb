import { readReason } from '@breakwater/client'
import type { Api, PasskeyRow } from '../api.js'
import { busy, h, say } from '../dom.js'
import type { Fail } from '../messages.js'
import { createPasskey, passkeysSupported } from '../webauthn.js'

export interface PasskeysProps {
  api: Api
  fail: Fail
}

const when = (iso: string) => new Date(iso).toLocaleString()

/**
 * The user's passkeys (SPEC §10), in the Security card: each with its name,
 * whether the platform syncs it across devices, when it was added and last
 * used; add one (named), rename one, remove one. Adding and removing are factor
 * changes, so the server may want a recent proof first: the re-authentication
 * dialog (api.ts) asks, then the client retries. The page only ever holds what
 * `passkeys.list` shows: no credential id, no key.
 */
export function passkeysSection({ api, fail }: PasskeysProps): HTMLElement {
  const { client } = api
  // Not `error`/`notice`: the Security card has those lines already (the app's).
  const error = h('p', {
    class: 'error',
    role: 'alert',
    'data-testid': 'passkey-error',
    hidden: true,
  })
  const notice = h('p', {
    class: 'notice',
    role: 'status',
    'data-testid': 'passkey-notice',
    hidden: true,
  })
  const clear = () => {
    say(error, undefined)
    say(notice, undefined)
  }

  const tbody = h('tbody', {})
  const table = h(
    'table',
    { 'data-testid': 'passkeys', hidden: true },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Name'),
        h('th', {}, 'Kind'),
        h('th', {}, 'Added'),
        h('th', {}, 'Last used'),
        h('th', {}, ''),
      ),
    ),
    tbody,
  )
  const empty = h('p', { class: 'hint', 'data-testid': 'passkeys-empty' }, 'Loading passkeys…')

  const name = h('input', {
    type: 'text',
    name: 'passkey-name',
    maxlength: '64',
    autocomplete: 'off',
    placeholder: 'e.g. Work laptop',
    'data-testid': 'passkey-name',
  })
  const add = h('button', { type: 'submit', 'data-testid': 'passkey-add' }, 'Add a passkey')
  const addForm = h(
    'form',
    { 'data-testid': 'passkey-add-form', novalidate: true },
    h('label', {}, 'Name of the new passkey (optional)', name),
    h('div', { class: 'actions' }, add),
  )
  if (!passkeysSupported()) {
    add.disabled = true
    say(notice, 'This browser cannot create passkeys here.')
  }

  /** The list as the server has it now (after any change, and once at the start). */
  async function load(): Promise<void> {
    const { passkeys } = await client.passkeys.list.query()
    tbody.replaceChildren(...passkeys.map(row))
    table.hidden = passkeys.length === 0
    empty.hidden = passkeys.length > 0
    empty.textContent = 'No passkeys yet.'
    element.dataset.count = String(passkeys.length)
  }
  const reload = () => load().catch((failure) => fail(failure, error, 'passkey'))

  /** After a refused change: the message, then the list as it is (a passkey removed elsewhere goes). */
  const refused = (failure: unknown) => {
    fail(failure, error, 'passkey')
    if (readReason(failure) === 'PASSKEY_NOT_FOUND') void reload()
  }

  function row(passkey: PasskeyRow): HTMLTableRowElement {
    const label = h('span', { 'data-testid': 'passkey-row-name' }, passkey.name)
    const nameCell = h('td', {}, label)
    const rename = h(
      'button',
      { type: 'button', class: 'secondary small', 'data-testid': 'passkey-rename' },
      'Rename',
    )
    const remove = h(
      'button',
      { type: 'button', class: 'secondary small', 'data-testid': 'passkey-remove' },
      'Remove',
    )
    const actions = h('td', { class: 'row-actions' }, rename, remove)
    const tr = h(
      'tr',
      { 'data-testid': 'passkey-row', 'data-passkey-id': passkey.id },
      nameCell,
      h(
        'td',
        {},
        h(
          'span',
          {
            class: passkey.synced ? 'badge' : 'badge muted-badge',
            'data-testid': 'passkey-synced',
            'data-synced': String(passkey.synced),
            title: passkey.synced
              ? 'Synced: your platform keeps it on all your devices'
              : 'Kept on one device or security key only',
          },
          passkey.synced ? 'Synced' : 'This device',
        ),
      ),
      h('td', { 'data-testid': 'passkey-created' }, when(passkey.createdAt)),
      h(
        'td',
        { 'data-testid': 'passkey-last-used' },
        passkey.lastUsedAt === null ? 'Never' : when(passkey.lastUsedAt),
      ),
      actions,
    )

    // Rename: the name cell becomes a small form.
    rename.addEventListener('click', () => {
      clear()
      const input = h('input', {
        type: 'text',
        maxlength: '64',
        autocomplete: 'off',
        'aria-label': `New name for ${passkey.name}`,
        'data-testid': 'passkey-rename-input',
      })
      input.value = passkey.name
      const cancel = h(
        'button',
        { type: 'button', class: 'secondary small', 'data-testid': 'passkey-rename-cancel' },
        'Cancel',
      )
      const form = h(
        'form',
        { class: 'inline-form', novalidate: true },
        input,
        h(
          'button',
          { type: 'submit', class: 'small', 'data-testid': 'passkey-rename-save' },
          'Save',
        ),
        cancel,
      )
      const back = () => {
        nameCell.replaceChildren(label)
        actions.hidden = false
      }
      cancel.addEventListener('click', back)
      form.addEventListener('submit', (event) => {
        event.preventDefault()
        clear()
        void busy(form, async () => {
          try {
            const next = input.value.trim()
            await client.passkeys.rename.mutate({ id: passkey.id, name: next })
            await load()
            say(notice, `Passkey renamed to “${next}”.`)
          } catch (failure) {
            refused(failure)
            input.select()
          }
        })
      })
      nameCell.replaceChildren(form)
      actions.hidden = true
      input.select()
    })

    // Remove: asks once more in the row, since the passkey then stops working here.
    remove.addEventListener('click', () => {
      clear()
      const confirm = h(
        'button',
        { type: 'button', class: 'danger small', 'data-testid': 'passkey-remove-confirm' },
        'Remove',
      )
      const keep = h(
        'button',
        { type: 'button', class: 'secondary small', 'data-testid': 'passkey-remove-cancel' },
        'Keep',
      )
      const question = h('span', { class: 'confirm' }, `Remove “${passkey.name}”? `, confirm, keep)
      keep.addEventListener('click', () => actions.replaceChildren(rename, remove))
      confirm.addEventListener('click', () => {
        clear()
        confirm.disabled = true
        keep.disabled = true
        client.passkeys.remove
          .mutate({ id: passkey.id })
          .then(async () => {
            await load()
            say(notice, `Passkey “${passkey.name}” removed: it no longer signs in to this account.`)
          })
          .catch((failure) => {
            actions.replaceChildren(rename, remove)
            refused(failure)
          })
      })
      actions.replaceChildren(question)
      keep.focus()
    })
    return tr
  }

  addForm.addEventListener('submit', (event) => {
    event.preventDefault()
    clear()
    void busy(addForm, async () => {
      try {
        // Step-up may come first (the dialog); the browser then asks for the device's PIN or biometrics.
        const options = await client.passkeys.registrationOptions.mutate()
        const response = await createPasskey(options)
        const chosen = name.value.trim()
        const { passkey } = await client.passkeys.register.mutate({
          response,
          ...(chosen === '' ? {} : { name: chosen }),
        })
        name.value = ''
        await load()
        say(notice, `Passkey “${passkey.name}” added: it signs you in without a password.`)
      } catch (failure) {
        fail(failure, error, 'passkey')
      }
    })
  })

  const element = h(
    'div',
    { 'data-testid': 'passkeys-section' },
    h('h3', {}, 'Passkeys'),
    h(
      'p',
      { class: 'hint' },
      'A passkey signs you in with your device’s screen lock or a security key, instead of a password. It also works as the second step after your password.',
    ),
    empty,
    table,
    addForm,
    error,
    notice,
  )
  void reload()
  return element
}
