import './style.css'
import { readReason, SessionExpiredError } from '@breakwater/client'
import { createApi, type Me } from './api.js'
import { h } from './dom.js'
import { describeError, endMessage } from './messages.js'
import { signInView } from './views/sign-in.js'
import { signedInView, type View } from './views/signed-in.js'

const root = document.getElementById('app')!
let view: View | undefined

function show(next: View): void {
  view?.dispose()
  view = next
  root.replaceChildren(next.element)
}

function showSignIn(notice?: string): void {
  show({ element: signInView({ api, notice, onSignedIn: showSignedIn }), dispose() {} })
}

function showSignedIn(me: Me): void {
  show(signedInView({ api, me, onSignedOut: showSignIn }))
}

// The session ended without this tab asking (revoked, expired, or a peer tab signed out).
const api = createApi((reason) => {
  if (view && root.querySelector('[data-testid="signed-in"]')) showSignIn(endMessage(reason))
})

/** First paint: a session cookie may exist (HttpOnly, so only the server knows). Ask. */
async function start(): Promise<void> {
  try {
    showSignedIn(await api.client.auth.me.query())
  } catch (error) {
    const reason = readReason(error)
    if (error instanceof SessionExpiredError) {
      // No cookie at all is a first visit, not news; anything else ended a session we had.
      return showSignIn(error.reason === 'REFRESH_MISSING' ? undefined : endMessage(error.reason))
    }
    showSignIn()
    if (reason === 'TOKEN_INVALID') return
    const message = h(
      'p',
      { class: 'error', role: 'alert', 'data-testid': 'error' },
      describeError(error, 'other'),
    )
    root.prepend(message)
  }
}

void start()
