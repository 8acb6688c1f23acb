import { SessionExpiredError } from '@breakwater/client'
import type { Api, Me, SessionRow } from '../api.js'
import { busy, h, say } from '../dom.js'
import { describeError, endMessage, type Fail } from '../messages.js'
import { deleteAccountCard } from './delete-account.js'
import { emailCard } from './email-card.js'
import { securityCard } from './security-card.js'

/**
 * No timer here calls the server. The session's end comes from the client's
 * live stream (`onSessionExpired`, wired in main.ts); the countdown is local;
 * the sessions and `auth.me` are re-read when the page comes back into view
 * and after a change this page makes.
 */
const TICK_MS = 200

export interface SignedInProps {
  api: Api
  me: Me
  /** The session is over here (signed out, revoked, expired): go back to the form. */
  onSignedOut(notice?: string): void
}

export interface View {
  element: HTMLElement
  dispose(): void
}

function when(iso: string): string {
  return new Date(iso).toLocaleString()
}

/** "Chrome on Linux"-ish, from a user agent, without a library. */
function device(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device'
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chromium'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : /node|undici/i.test(userAgent)
            ? 'Node.js'
            : userAgent.slice(0, 40)
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /Mac OS X/.test(userAgent)
      ? 'macOS'
      : /Android/.test(userAgent)
        ? 'Android'
        : /Linux/.test(userAgent)
          ? 'Linux'
          : ''
  return os ? `${browser} on ${os}` : browser
}

/** The signed-in page: who, token countdown, sessions, email, password, security, sign-out, deletion. */
export function signedInView({ api, me, onSignedOut }: SignedInProps): View {
  const { client } = api
  let disposed = false
  const end = (notice?: string) => {
    if (disposed) return
    onSignedOut(notice)
  }
  /** A call failed: sign out if the session is over, else say what went wrong. */
  const fail: Fail = (failure, where, context) => {
    if (disposed) return
    if (failure instanceof SessionExpiredError) return end(endMessage(failure.reason))
    say(where, describeError(failure, context))
  }

  // Who
  const email = h('strong', { 'data-testid': 'me-email' }, me.user.email)
  const header = h(
    'header',
    { class: 'bar' },
    h('span', { class: 'brand' }, 'Breakwater'),
    h('span', {}, 'Signed in as ', email),
  )

  // Access-token countdown: the expiry comes from results (me, refresh); the token itself never does.
  const countdown = h('output', { 'data-testid': 'countdown' })
  const tokenCard = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Access token'),
    h('p', {}, 'Expires in ', countdown),
    h(
      'p',
      { class: 'hint' },
      'Renewed automatically on the next request. Both tokens live in HttpOnly cookies: this page never sees them.',
    ),
  )
  const tick = () => {
    const expiresAt = api.auth.accessTokenExpiresAt ?? new Date(me.session.accessTokenExpiresAt)
    const left = expiresAt.getTime() - Date.now()
    countdown.dataset.expiresAt = expiresAt.toISOString()
    countdown.textContent =
      left > 0 ? `${(left / 1000).toFixed(1)} s` : 'expired (renews on the next request)'
    countdown.classList.toggle('late', left <= 0)
  }
  tick()
  const ticker = setInterval(tick, TICK_MS)

  // Sessions
  const sessionsError = h('p', {
    class: 'error',
    role: 'alert',
    'data-testid': 'error',
    hidden: true,
  })
  const tbody = h('tbody', {})
  const rows = new Map<string, HTMLTableRowElement>()
  const sessionsCard = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Sessions'),
    h(
      'table',
      { 'data-testid': 'sessions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Device'),
          h('th', {}, 'IP'),
          h('th', {}, 'Signed in'),
          h('th', {}, 'Last active'),
          h('th', {}, ''),
        ),
      ),
      tbody,
    ),
    sessionsError,
  )
  const revoke = (row: SessionRow, button: HTMLButtonElement) => {
    button.disabled = true
    say(sessionsError, undefined)
    client.sessions.revoke
      .mutate({ sessionId: row.id })
      .then(() => refresh())
      .catch((failure) => {
        button.disabled = false
        fail(failure, sessionsError, 'revoke')
      })
  }
  const renderSessions = (list: SessionRow[]) => {
    // Update rows in place (no flicker, no lost clicks), current session first.
    const sorted = [...list].sort(
      (a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt.localeCompare(a.lastUsedAt),
    )
    const seen = new Set<string>()
    for (const item of sorted) {
      seen.add(item.id)
      const action = item.current
        ? h('span', { class: 'badge', 'data-testid': 'current-session' }, 'This device')
        : h(
            'button',
            { type: 'button', class: 'secondary small', 'data-testid': 'revoke-session' },
            'Revoke',
          )
      if (action instanceof HTMLButtonElement)
        action.addEventListener('click', () => revoke(item, action))
      const cells = [
        device(item.userAgent),
        item.ip ?? '–',
        when(item.createdAt),
        when(item.lastUsedAt),
      ]
      let tr = rows.get(item.id)
      if (!tr) {
        tr = h('tr', { 'data-testid': 'session-row', 'data-session-id': item.id })
        for (let i = 0; i < 5; i++) tr.append(h('td', {}))
        rows.set(item.id, tr)
      }
      tr.dataset.current = String(item.current)
      tr.classList.toggle('current', item.current)
      cells.forEach((text, i) => {
        const cell = tr.children[i] as HTMLTableCellElement
        if (cell.textContent !== text) cell.textContent = text
      })
      const last = tr.children[4] as HTMLTableCellElement
      const had = last.firstElementChild
      // Keep an existing button (it may be mid-click); swap only when the kind changes.
      if (!had || had.tagName !== action.tagName) last.replaceChildren(action)
      tbody.append(tr)
    }
    for (const [id, tr] of rows) {
      if (!seen.has(id)) {
        tr.remove()
        rows.delete(id)
      }
    }
  }

  // Email: verified or not, and changing it
  const emailSection = emailCard({ api, me, fail })

  // Change password
  const currentPassword = h('input', {
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'current-password',
  })
  const newPassword = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    'data-testid': 'new-password',
  })
  const passwordError = h('p', {
    class: 'error',
    role: 'alert',
    'data-testid': 'error',
    hidden: true,
  })
  const passwordDone = h('p', {
    class: 'notice',
    role: 'status',
    'data-testid': 'notice',
    hidden: true,
  })
  const passwordForm = h(
    'form',
    { class: 'card', novalidate: true },
    h('h2', {}, 'Change password'),
    h('label', {}, 'Current password', currentPassword),
    h('label', {}, 'New password', newPassword),
    passwordError,
    passwordDone,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'change-password' }, 'Change password'),
    ),
  )
  passwordForm.addEventListener('submit', (event) => {
    event.preventDefault()
    say(passwordError, undefined)
    say(passwordDone, undefined)
    void busy(passwordForm, async () => {
      try {
        await client.auth.changePassword.mutate({
          currentPassword: currentPassword.value,
          newPassword: newPassword.value,
        })
        currentPassword.value = ''
        newPassword.value = ''
        say(passwordDone, 'Password changed. Every other session was signed out.')
        await refresh()
      } catch (failure) {
        fail(failure, passwordError, 'change-password')
      }
    })
  })

  // Security: an authenticator app as a second factor
  const securitySection = securityCard({ api, fail })

  // Sign out
  const signOutError = h('p', {
    class: 'error',
    role: 'alert',
    'data-testid': 'error',
    hidden: true,
  })
  const signOut = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'sign-out' },
    'Sign out',
  )
  const signOutEverywhere = h(
    'button',
    { type: 'button', class: 'danger', 'data-testid': 'sign-out-everywhere' },
    'Sign out everywhere',
  )
  const signOutCard = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Sign out'),
    h('p', { class: 'hint' }, '“Everywhere” ends every session of this account, on every device.'),
    signOutError,
    h('div', { class: 'actions' }, signOut, signOutEverywhere),
  )
  const leave = (everywhere: boolean) => async () => {
    signOut.disabled = true
    signOutEverywhere.disabled = true
    try {
      await api.ensureFresh()
      if (everywhere) await client.auth.logoutAll.mutate()
      else await client.auth.logout.mutate()
      end(everywhere ? 'Signed out on every device.' : 'Signed out.')
    } catch (failure) {
      signOut.disabled = false
      signOutEverywhere.disabled = false
      // A plain sign-out is forgotten locally whatever the server said.
      if (!everywhere && !(failure instanceof SessionExpiredError)) return end('Signed out.')
      fail(failure, signOutError, 'other')
    }
  }
  signOut.addEventListener('click', leave(false))
  signOutEverywhere.addEventListener('click', leave(true))

  // Delete account. Not through `end`: the live stream may have heard of the
  // end first and left with "session ended"; this says why.
  const deleteCard = deleteAccountCard({
    api,
    fail,
    onDeleted: () => onSignedOut('Your account was deleted, and every session with it.'),
  })

  // Who am I (the address or its status may have changed in another tab), then the sessions.
  async function refresh(): Promise<void> {
    const current = await client.auth.me.query()
    if (disposed) return
    me = current
    email.textContent = current.user.email
    emailSection.update(current)
    await listSessions()
  }
  async function listSessions(): Promise<void> {
    const list = await client.sessions.list.query()
    if (disposed) return
    renderSessions(list)
  }
  /** One re-read at a time: `focus` and `visibilitychange` often come together. */
  let rereading = false
  const reread = (read: () => Promise<void>) => {
    if (rereading) return
    rereading = true
    read()
      .then(() => say(sessionsError, undefined))
      .catch((failure) => fail(failure, sessionsError, 'other'))
      .finally(() => {
        rereading = false
      })
  }
  // `me` is fresh (the caller just read it): the sessions only, once.
  reread(listSessions)
  const onBack = () => {
    if (!disposed && document.visibilityState === 'visible') reread(refresh)
  }
  window.addEventListener('focus', onBack)
  document.addEventListener('visibilitychange', onBack)

  const element = h(
    'div',
    { class: 'page', 'data-testid': 'signed-in' },
    header,
    tokenCard,
    sessionsCard,
    emailSection.element,
    passwordForm,
    securitySection,
    signOutCard,
    deleteCard,
  )
  return {
    element,
    dispose() {
      disposed = true
      clearInterval(ticker)
      window.removeEventListener('focus', onBack)
      document.removeEventListener('visibilitychange', onBack)
    },
  }
}
