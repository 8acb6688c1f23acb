// useSession, useSignIn, useSignUp rendered with React Testing Library in
// jsdom, against a real server (cookie transport, with the live stream on as
// in a browser: jsdom has a `document`).
import './dom.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createBreakwaterAuth, createBreakwaterClient } from '@breakwater/client'
import type { BreakwaterRouter } from '@breakwater/server'
import { act, cleanup, configure, render, screen, waitFor } from '@testing-library/react'
import { createElement as h, useEffect } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import t, { type Test } from 'tap'
import {
  BreakwaterProvider,
  type SignInResult,
  type UseSessionResult,
  type UseSignInResult,
  type UseSignUpResult,
  useSession,
  useSignIn,
  useSignUp,
} from '../src/index.js'
import {
  closeDatabase,
  cookieJarFetch,
  PASSWORD,
  registerUser,
  startServer,
  type TestServer,
  uniqueEmail,
} from './server.js'

// What these waits check is the state a hook arrives at, not how fast: Testing Library's
// default second is one stalled round trip on two loaded cores. (The one wait that is
// about speed, a revocation reaching the hook, names its own bound.)
configure({ asyncUtilTimeout: 10_000 })

t.teardown(closeDatabase)
t.afterEach(cleanup)

/** One line per session state, as the app would show it. */
function label(session: UseSessionResult): string {
  if (session.status === 'signed-in') return `signed-in ${session.user.email}`
  if (session.status === 'signed-out')
    return `signed-out ${session.reason}${session.revocation ? ` ${session.revocation}` : ''}`
  return session.error ? 'loading (error)' : 'loading'
}

/** What {@link Probe} hands out: the hooks' latest values and every state React committed. */
interface Harness {
  committed: string[]
  hooks: { session?: UseSessionResult; signIn?: UseSignInResult; signUp?: UseSignUpResult }
}

/** Renders the session as text and hands the hooks out to the test. */
function Probe({ harness }: { harness: Harness }) {
  const session = useSession()
  harness.hooks.session = session
  harness.hooks.signIn = useSignIn()
  harness.hooks.signUp = useSignUp()
  const text = label(session)
  useEffect(() => {
    harness.committed.push(text)
  }, [harness, text])
  return h('p', { 'data-testid': 'status' }, text)
}

function harness() {
  const state: Harness = { committed: [], hooks: {} }
  return { ...state, probe: () => h(Probe, { harness: state }) }
}

/** A "page load": a fresh client on the browser's cookie jar, closed when the test ends. */
function page(
  t: { teardown(fn: () => unknown): void },
  server: TestServer,
  browser: ReturnType<typeof cookieJarFetch>,
) {
  const auth = createBreakwaterAuth({ url: server.url, transport: 'cookie', fetch: browser.fetch })
  t.teardown(() => auth.close())
  return auth
}

const statusText = () => screen.getByTestId('status').textContent

/** Waits until the page says `text`. */
const untilStatus = (text: string) =>
  waitFor(() => {
    if (statusText() !== text) throw new Error(statusText() ?? '')
  })

/**
 * A sign-in through `useSignIn` that succeeds: it resolves with the session, and the page
 * turns signed-in from its answer alone (`path` the one request, no `auth.me` after it).
 */
async function signsInFromItsAnswer(
  t: Test,
  {
    server,
    hooks,
    email,
    path,
  }: { server: TestServer; hooks: Harness['hooks']; email: string; path: string },
  signIn: () => Promise<SignInResult | undefined>,
): Promise<void> {
  const before = server.paths.length
  const result = await act(signIn)
  t.ok(result && 'user' in result && result.user.email === email, 'resolves with the session')
  t.equal(statusText(), `signed-in ${email}`)
  t.equal(hooks.signIn!.error, undefined, 'the earlier error is cleared')
  t.same(
    server.paths.slice(before).filter((p) => p !== '/trpc/sessions.watch'),
    [path],
    'signed in from the answer itself: no auth.me after it',
  )
}

t.test('a first visit: loading, signed-out; sign in, sign out', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const browser = cookieJarFetch()
  const auth = page(t, server, browser)
  const { committed, hooks, probe } = harness()

  const first = server.paths.length
  render(h(BreakwaterProvider, { auth }, probe()))
  t.equal(statusText(), 'loading', 'nothing known on the first render')
  await untilStatus('signed-out REFRESH_MISSING')
  t.same(server.paths.slice(first), ['/trpc/auth.me'], 'one auth.me found no session')

  const wrong = await act(() => hooks.signIn!.signIn({ email, password: 'not the password 123' }))
  t.equal(wrong, undefined, 'a failed sign-in resolves undefined')
  t.equal(hooks.signIn!.reason, 'INVALID_CREDENTIALS', 'and says why')
  t.equal(statusText(), 'signed-out REFRESH_MISSING')

  await signsInFromItsAnswer(t, { server, hooks, email, path: '/trpc/auth.login' }, () =>
    hooks.signIn!.signIn({ email, password: PASSWORD }),
  )
  t.equal(hooks.session!.status === 'signed-in' && hooks.session!.session.id.length > 0, true)
  t.ok(hooks.session!.accessTokenExpiresAt instanceof Date)

  await act(() => hooks.session!.signOut())
  t.equal(statusText(), 'signed-out LOGGED_OUT')
  t.same(committed, [
    'loading',
    'signed-out REFRESH_MISSING',
    `signed-in ${email}`,
    'signed-out LOGGED_OUT',
  ])
})

t.test(
  'a returning visitor is signed in; a revoke elsewhere signs the page out at once',
  async (t) => {
    const server = await startServer()
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const browser = cookieJarFetch()
    // An earlier visit left the session cookies.
    const earlier = createBreakwaterClient<BreakwaterRouter>({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      live: false,
    })
    const login = await earlier.auth.login.mutate({ email, password: PASSWORD })
    if ('mfaRequired' in login) throw new Error('no second factor expected')

    const auth = page(t, server, browser)
    const { committed, probe } = harness()
    const before = server.paths.length
    render(h(BreakwaterProvider, { auth }, probe()))
    await waitFor(() => {
      if (statusText() !== `signed-in ${email}`) throw new Error(statusText() ?? '')
    })
    t.same(
      server.paths.slice(before).filter((p) => p !== '/trpc/sessions.watch'),
      ['/trpc/auth.me'],
      'one auth.me',
    )
    // The live stream is open (cookie transport with a document): wait for it, then end the session elsewhere.
    await waitFor(() => {
      if (!server.paths.includes('/trpc/sessions.watch')) throw new Error('no stream yet')
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const other = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
    await other.auth.login.mutate({ email, password: PASSWORD })
    const asked = performance.now()
    await other.sessions.revoke.mutate({ sessionId: login.session.id })
    await waitFor(
      () => {
        if (statusText() !== 'signed-out SESSION_REVOKED user_revoked')
          throw new Error(statusText() ?? '')
      },
      { timeout: 3000 },
    )
    t.comment(`revoke asked → useSession signed-out: ${(performance.now() - asked).toFixed(0)} ms`)
    t.same(committed, ['loading', `signed-in ${email}`, 'signed-out SESSION_REVOKED user_revoked'])
  },
)

t.test('sign up, then sign out everywhere', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const browser = cookieJarFetch()
  const auth = page(t, server, browser)
  const { hooks, probe } = harness()
  render(h(BreakwaterProvider, { auth }, probe()))
  await untilStatus('signed-out REFRESH_MISSING')
  const email = uniqueEmail('signup')
  const weak = await act(() => hooks.signUp!.signUp({ email, password: 'short' }))
  t.equal(weak, undefined)
  t.ok(hooks.signUp!.error, 'the failure is kept')
  const created = await act(() => hooks.signUp!.signUp({ email, password: PASSWORD }))
  t.equal(created?.user.email, email)
  t.equal(statusText(), `signed-in ${email}`)
  t.equal(hooks.signUp!.error, undefined)

  const other = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
  await other.auth.login.mutate({ email, password: PASSWORD })
  t.equal((await other.sessions.list.query()).length, 2)
  await act(() => hooks.session!.signOutEverywhere())
  t.equal(statusText(), 'signed-out LOGGED_OUT', 'our own doing: no expiry')
  const after = await other.auth.me.query().catch((e: unknown) => e)
  t.ok(after instanceof Error, 'the other session ended too')
})

t.test('a mailed code signs in from its own answer, as a password does', async (t) => {
  // The server's sign-in-code mail template hands the code to the test; the outbox takes the rest.
  const codes = new Map<string, string>()
  const outboxDir = await mkdtemp(path.join(tmpdir(), 'breakwater-react-outbox-'))
  t.teardown(() => rm(outboxDir, { recursive: true, force: true }))
  const server = await startServer({
    mail: {
      outboxDir,
      templates: {
        signInCode: (context) => {
          codes.set(context.email, context.code ?? '')
          return { subject: 'code', text: 'code', html: '<p>code</p>' }
        },
      },
    },
  })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const browser = cookieJarFetch()
  const auth = page(t, server, browser)
  const { hooks, probe } = harness()
  render(h(BreakwaterProvider, { auth }, probe()))
  await untilStatus('signed-out REFRESH_MISSING')
  const asker = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
  await asker.auth.requestSignInCode.mutate({ email })
  const code = codes.get(email)
  t.match(code, /^\d{6}$/, 'a code was mailed')
  const wrong = `${(Number(code) + 1) % 1_000_000}`.padStart(6, '0')

  const refused = await act(() => hooks.signIn!.signInWithCode({ email, code: wrong }))
  t.equal(refused, undefined, 'a wrong code resolves undefined')
  t.equal(hooks.signIn!.reason, 'INVALID_CREDENTIALS', 'and says why')
  t.equal(statusText(), 'signed-out REFRESH_MISSING')

  await signsInFromItsAnswer(t, { server, hooks, email, path: '/trpc/auth.signInWithCode' }, () =>
    hooks.signIn!.signInWithCode({ email, code: code! }),
  )
})

t.test('server HTML hydrates without a mismatch, then the session loads', async (t) => {
  const server = await startServer()
  const email = await registerUser(server.url)
  const browser = cookieJarFetch()
  const seed = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'cookie',
    fetch: browser.fetch,
    live: false,
  })
  await seed.auth.login.mutate({ email, password: PASSWORD })
  const auth = page(t, server, browser)
  // Registered after the page's, so it runs first: the server goes while the page still
  // streams (as in a deploy). The other order makes app.close() wait (reported to the server).
  t.teardown(() => server.close())
  const { probe } = harness()
  const tree = () => h(BreakwaterProvider, { auth }, probe())
  const container = document.createElement('div')
  container.innerHTML = renderToString(tree())
  document.body.append(container)
  t.equal(container.textContent, 'loading', 'the server rendered loading')
  const errors: unknown[] = []
  const root = await act(async () =>
    hydrateRoot(container, tree(), { onRecoverableError: (error) => errors.push(error) }),
  )
  t.teardown(() => root.unmount())
  await waitFor(() => {
    if (container.textContent !== `signed-in ${email}`) throw new Error(container.textContent ?? '')
  })
  t.same(errors, [], 'no hydration mismatch')
})

t.test('outside a provider: a clear error; a provider without auth: a TypeError', async (t) => {
  const { probe } = harness()
  const quiet = console.error
  console.error = () => {}
  t.teardown(() => {
    console.error = quiet
  })
  t.throws(() => render(probe()), {
    message: '@breakwater/react: useSession() must be used inside <BreakwaterProvider>',
  })
  t.throws(() => render(h(BreakwaterProvider, { auth: undefined as never }, probe())), TypeError)
})
