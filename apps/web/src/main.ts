import './style.css'
import { readReason, SessionExpiredError } from '@breakwater/client'
import { createApi, type Me } from './api.js'
import { h, type Navigate } from './dom.js'
import { takeLinkToken } from './link-token.js'
import { describeError, endMessage } from './messages.js'
import { forgotPasswordView } from './views/forgot-password.js'
import { linkActionView } from './views/link-action.js'
import { resetPasswordView } from './views/reset-password.js'
import { signInView } from './views/sign-in.js'
import { signInCodeView } from './views/sign-in-code.js'
import { signedInView, type View } from './views/signed-in.js'

// Before anything else, and so before any request this script makes: a mailed
// link's token leaves the address bar (link-token.ts). The imports above only
// define things; none of them calls the server.
let link = takeLinkToken()

const root = document.getElementById('app')!
let view: View | undefined
/** What one page hands the next (the address typed on the sign-in form). */
let carried: { email?: string } = {}
/** Bumped per render, so an answer to a page the user has left is dropped. */
let rendered = 0

function show(next: View): void {
  view?.dispose()
  view = next
  root.replaceChildren(next.element)
}

const still = (element: HTMLElement): View => ({ element, dispose() {} })

const navigate: Navigate = (path, carry) => {
  carried = carry ?? {}
  if (path !== location.pathname) history.pushState(null, '', path)
  route()
}

function showSignIn(notice?: string): void {
  const { email } = carried
  carried = {}
  // Signed-in or signed-out, the app's own page is `/`, whichever page led here.
  if (location.pathname !== '/') history.replaceState(null, '', '/')
  show(still(signInView({ api, notice, email, navigate, onSignedIn: showSignedIn })))
}

function showSignedIn(me: Me): void {
  if (location.pathname !== '/') history.replaceState(null, '', '/')
  show(signedInView({ api, me, onSignedOut: showSignIn }))
}

// The session ended without this tab asking (revoked, expired, or a peer tab signed out).
const api = createApi((reason) => {
  if (view && root.querySelector('[data-testid="signed-in"]')) showSignIn(endMessage(reason))
})

/**
 * The token of the link this page was opened with, if it was opened at `path`;
 * handed out once, so going back to the page later does not spend it again
 * (a verified address would then read "invalid link").
 */
function tokenFor(path: string): string | undefined {
  if (link?.path !== path) return undefined
  const { token } = link
  link = undefined
  return token
}

/** Renders the page the address bar names; anything unknown is the app itself. */
function route(): void {
  rendered++
  const page = pageAt(location.pathname)
  if (page) show(still(page))
  else void start()
}

/** The pages outside the app's own (mailed links, reset, code), or undefined for `/`. */
function pageAt(path: string): HTMLElement | undefined {
  const { email } = carried
  switch (path) {
    case '/forgot-password':
      carried = {}
      return forgotPasswordView({ api, email, navigate })
    case '/sign-in-with-code':
      carried = {}
      return signInCodeView({ api, email, navigate, onSignedIn: showSignedIn })
    case '/reset-password':
      return resetPasswordView({ api, token: tokenFor(path), navigate })
    case '/verify-email':
      return linkActionView({
        title: 'Verify your email',
        token: tokenFor(path),
        use: (token) => api.client.auth.verifyEmail.mutate({ token }),
        done: 'Your email address is verified.',
        navigate,
      })
    case '/confirm-email-change':
      return linkActionView({
        title: 'Confirm your new email',
        token: tokenFor(path),
        use: (token) => api.client.auth.confirmEmailChange.mutate({ token }),
        done: 'Your email address is changed. Sign in with the new one from now on.',
        navigate,
      })
    default:
      return undefined
  }
}

/** The app at `/`: a session cookie may exist (HttpOnly, so only the server knows). Ask. */
async function start(): Promise<void> {
  const at = rendered
  try {
    const me = await api.client.auth.me.query()
    if (at === rendered) showSignedIn(me)
  } catch (error) {
    if (at !== rendered) return
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

window.addEventListener('popstate', route)
route()
