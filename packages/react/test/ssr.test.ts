// Server rendering: useSession() renders `loading`, sends no request and
// touches no browser global. Plain Node, no DOM emulation.
import { createBreakwaterAuth, createBreakwaterClient } from '@breakwater/client'
import type { BreakwaterRouter } from '@breakwater/server'
import { createElement as h } from 'react'
import { renderToString } from 'react-dom/server'
import t from 'tap'
import { BreakwaterProvider, useSession, useSignIn, useSignUp } from '../src/index.js'
import { closeDatabase, cookieJarFetch, PASSWORD, registerUser, startServer } from './server.js'

t.teardown(closeDatabase)

const BROWSER_GLOBALS = [
  'window',
  'document',
  'navigator',
  'location',
  'localStorage',
  'sessionStorage',
  'self',
  'EventSource',
]

/** Records any read of a browser global while `run` runs (each reads as `undefined`, as in Node). */
function touchedDuring(run: () => void): string[] {
  const touched: string[] = []
  const target = globalThis as Record<string, unknown>
  for (const name of BROWSER_GLOBALS) {
    if (name in target) throw new Error(`${name} exists here: not a server environment`)
    Object.defineProperty(target, name, {
      configurable: true,
      get() {
        touched.push(name)
        return undefined
      },
    })
  }
  try {
    run()
  } finally {
    for (const name of BROWSER_GLOBALS) delete target[name]
  }
  return touched
}

function Status() {
  const session = useSession()
  useSignIn()
  useSignUp()
  return h('p', null, session.status === 'signed-in' ? session.user.email : session.status)
}

t.test('renders loading, asks nothing, touches no window', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  // Even with a live session in the cookie jar: the server cannot know it without asking.
  const browser = cookieJarFetch()
  const calls: string[] = []
  const fetch = (input: RequestInfo | URL | string, init?: RequestInit) => {
    calls.push(String(input))
    return browser.fetch(input, init)
  }
  const seed = createBreakwaterClient<BreakwaterRouter>({
    url: server.url,
    transport: 'cookie',
    fetch: browser.fetch,
  })
  await seed.auth.login.mutate({ email, password: PASSWORD })
  const auth = createBreakwaterAuth({ url: server.url, transport: 'cookie', fetch })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const before = server.paths.length

  let html = ''
  const touched = touchedDuring(() => {
    html = renderToString(h(BreakwaterProvider, { auth }, h(Status)))
  })
  t.equal(html, '<p>loading</p>')
  t.same(touched, [], 'no browser global read while rendering')

  const withClient = touchedDuring(() => {
    html = renderToString(h(BreakwaterProvider, { auth, client }, h(Status)))
  })
  t.equal(html, '<p>loading</p>', 'the same with your own client')
  t.same(withClient, [])

  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(calls, [], 'the client sent nothing')
  t.same(server.paths.slice(before), [], 'the server saw nothing')
  t.equal(auth.state, 'unknown', 'and the client still knows nothing')
})
