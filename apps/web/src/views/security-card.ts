import { readReason } from '@breakwater/client'
import type { Api } from '../api.js'
import { busy, h, outcomeLines, say } from '../dom.js'
import type { Fail } from '../messages.js'
import { passkeysSection } from './passkeys.js'
import { qrCode } from './qr-code.js'

export interface SecurityCardProps {
  api: Api
  fail: Fail
}

/** Where the card is: the page does not know up front whether an app is set up (`auth.me` does not say). */
type Step = 'start' | 'scan' | 'codes' | 'enabled'

/** "JBSW Y3DP EHPK 3PXP": easier to copy by eye; authenticator apps ignore the spaces. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ')
}

/**
 * The factors beyond the password. Passkeys have their own section (passkeys.ts).
 *
 * Two-step verification with an authenticator app (SPEC §10, TOTP): set one
 * up (a QR code drawn in this page, the secret for typing in, a first code to
 * confirm), show the 10 recovery codes once, or turn the app off with a code.
 * `auth.me` does not tell whether an app is set up, so the card offers the set-up
 * and learns otherwise from the server (`MFA_ALREADY_ENABLED`). Every call here
 * needs a recent proof of a factor: the re-authentication dialog (api.ts) asks
 * for it when the server wants it.
 */
export function securityCard({ api, fail }: SecurityCardProps): HTMLElement {
  const { client } = api
  const { error, notice } = outcomeLines()
  const status = h('p', { 'data-testid': 'totp-status' })

  // Start: one button.
  const setup = h(
    'button',
    { type: 'button', 'data-testid': 'totp-setup' },
    'Set up authenticator app',
  )
  const start = h(
    'div',
    {},
    h(
      'p',
      { class: 'hint' },
      'With an authenticator app, signing in asks for a 6-digit code from your phone after the password.',
    ),
    h('div', { class: 'actions' }, setup),
  )

  // Scan: the QR code, the secret, and the first code.
  const qrSlot = h('div', {})
  const secret = h('code', { class: 'secret', 'data-testid': 'totp-secret' })
  const openInApp = h(
    'a',
    { 'data-testid': 'totp-uri' },
    'Open in an authenticator app on this device',
  )
  const code = h('input', {
    type: 'text',
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    required: true,
    'data-testid': 'totp-code',
  })
  const cancelSetup = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'totp-cancel' },
    'Cancel',
  )
  const scan = h(
    'form',
    { 'data-testid': 'totp-setup-form', novalidate: true },
    h('p', {}, 'Scan this code with your authenticator app:'),
    qrSlot,
    h('p', { class: 'hint' }, 'Or enter this key in it by hand: ', secret, ' · ', openInApp),
    h('label', {}, 'Then the 6-digit code the app shows', code),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'totp-confirm' }, 'Turn on'),
      cancelSetup,
    ),
  )

  // Codes: shown once.
  const codeList = h('ol', { class: 'recovery-codes', 'data-testid': 'recovery-codes' })
  const saved = h(
    'button',
    { type: 'button', 'data-testid': 'recovery-codes-saved' },
    'I saved them',
  )
  const codes = h(
    'div',
    {},
    h(
      'p',
      {},
      'Your recovery codes: each signs you in once if your phone is lost. Keep them somewhere safe; they are not shown again.',
    ),
    codeList,
    h('div', { class: 'actions' }, saved),
  )

  // Enabled: turning the app off takes a current code from it.
  const disableCode = h('input', {
    type: 'text',
    name: 'disable-code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    required: true,
    'data-testid': 'totp-disable-code',
  })
  const disable = h(
    'form',
    { 'data-testid': 'totp-disable-form', novalidate: true },
    h('label', {}, 'Code from your authenticator app', disableCode),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'submit', class: 'danger', 'data-testid': 'totp-disable' },
        'Turn off authenticator app',
      ),
    ),
  )

  const steps: Record<Step, HTMLElement> = { start, scan, codes, enabled: disable }
  const go = (step: Step) => {
    for (const [name, element] of Object.entries(steps)) element.hidden = name !== step
    // Said only when known: at the start, the page cannot tell (see above).
    status.textContent =
      step === 'start'
        ? ''
        : step === 'scan'
          ? 'Setting up: not on until a code from the app confirms it.'
          : 'On: signing in asks for a code from your authenticator app.'
    status.hidden = step === 'start'
    status.dataset.enabled = String(step === 'codes' || step === 'enabled')
    element.dataset.step = step
  }
  const clear = () => {
    say(error, undefined)
    say(notice, undefined)
  }

  setup.addEventListener('click', () => {
    clear()
    setup.disabled = true
    client.mfa.totp.enroll
      .mutate()
      .then(({ secret: key, uri }) => {
        qrSlot.replaceChildren(
          qrCode(uri, 'QR code of the authenticator app key', { 'data-testid': 'totp-qr' }),
        )
        secret.textContent = grouped(key)
        openInApp.href = uri
        code.value = ''
        go('scan')
        code.focus()
      })
      .catch((failure) => {
        if (readReason(failure) === 'MFA_ALREADY_ENABLED') {
          go('enabled')
          say(notice, 'An authenticator app is already set up. To replace it, turn it off first.')
          return
        }
        fail(failure, error, 'totp')
      })
      .finally(() => {
        setup.disabled = false
      })
  })

  cancelSetup.addEventListener('click', () => {
    // The pending key stays unused on the server; the next set-up replaces it.
    clear()
    qrSlot.replaceChildren()
    secret.textContent = ''
    openInApp.removeAttribute('href')
    go('start')
  })

  scan.addEventListener('submit', (event) => {
    event.preventDefault()
    clear()
    void busy(scan, async () => {
      try {
        const { recoveryCodes } = await client.mfa.totp.confirm.mutate({ code: code.value })
        // The key leaves the page: it is in the app now, and only there.
        qrSlot.replaceChildren()
        secret.textContent = ''
        openInApp.removeAttribute('href')
        codeList.replaceChildren(...recoveryCodes.map((one) => h('li', {}, h('code', {}, one))))
        go('codes')
        saved.focus()
      } catch (failure) {
        fail(failure, error, 'totp')
        code.select()
      }
    })
  })

  saved.addEventListener('click', () => {
    // Out of the DOM too, not just hidden: they were to be shown once.
    codeList.replaceChildren()
    clear()
    go('enabled')
  })

  disable.addEventListener('submit', (event) => {
    event.preventDefault()
    clear()
    void busy(disable, async () => {
      try {
        await client.mfa.totp.disable.mutate({ code: disableCode.value })
        disableCode.value = ''
        go('start')
        say(notice, 'Authenticator app turned off, and its recovery codes with it.')
      } catch (failure) {
        fail(failure, error, 'totp')
        disableCode.select()
      }
    })
  })

  const element = h(
    'section',
    { class: 'card', 'data-testid': 'security-card' },
    h('h2', {}, 'Security'),
    h('h3', {}, 'Authenticator app'),
    status,
    start,
    scan,
    codes,
    disable,
    error,
    notice,
    passkeysSection({ api, fail }),
  )
  go('start')
  return element
}
