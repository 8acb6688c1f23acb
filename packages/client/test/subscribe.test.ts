// auth.subscribe(): what listeners hear, against a real server. And the typed
// error a client (a CLI) gets for calls after its session ended.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BreakwaterRouter } from '@breakwater/server'
import t from 'tap'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  readReason,
  SessionExpiredError,
  type SessionSnapshot,
} from '../src/index.js'
import { fileTokenStore } from '../src/node.js'
import {
  closeDatabase,
  cookieJarFetch,
  PASSWORD,
  registerUser,
  signedIn,
  startServer,
} from './helpers.js'
import { until } from './live-support.js'

t.teardown(closeDatabase)

/** A snapshot as plain data, its instant as a string. */
function plain(snapshot: SessionSnapshot) {
  return { ...snapshot, accessTokenExpiresAt: snapshot.accessTokenExpiresAt?.toISOString() }
}

t.test('every change, once: sign-in, refresh, sign-out', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const auth = createBreakwaterAuth({ url: server.url, transport: 'bearer' })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const heard: ReturnType<typeof plain>[] = []
  const first = auth.snapshot
  t.same(plain(first), {
    state: 'unknown',
    accessTokenExpiresAt: undefined,
    reason: undefined,
    revocation: undefined,
  })
  t.equal(auth.snapshot, first, 'the same object until something changes')
  const stop = auth.subscribe((snapshot) => {
    t.equal(snapshot, auth.snapshot, 'the listener gets the current snapshot')
    heard.push(plain(snapshot))
  })
  let thrown = 0
  const stopThrowing = auth.subscribe(() => {
    thrown++
    throw new Error('a careless listener')
  })

  const login = signedIn(await client.auth.login.mutate({ email, password: PASSWORD }))
  t.same(heard, [
    {
      state: 'signed-in',
      accessTokenExpiresAt: login.session.accessTokenExpiresAt,
      reason: undefined,
      revocation: undefined,
    },
  ])
  t.not(auth.snapshot, first, 'a new object for the change')
  const signedInSnapshot = auth.snapshot

  await client.auth.me.query()
  await client.sessions.list.query()
  t.equal(heard.length, 1, 'calls that change nothing tell nothing')
  t.equal(auth.snapshot, signedInSnapshot)

  // Tokens are minted in whole seconds: wait for a refresh to bring a later expiry.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await auth.refresh()
  t.equal(heard.length, 2, 'a refresh tells the new expiry')
  t.equal(heard[1]?.state, 'signed-in')
  t.ok(
    Date.parse(heard[1]!.accessTokenExpiresAt!) > Date.parse(login.session.accessTokenExpiresAt),
    'later than the first',
  )

  await client.auth.logout.mutate()
  t.same(heard.at(-1), {
    state: 'signed-out',
    accessTokenExpiresAt: undefined,
    reason: 'LOGGED_OUT',
    revocation: undefined,
  })
  t.equal(heard.length, 3)
  t.equal(thrown, 3, 'a throwing listener heard every change and stopped nobody')

  stop()
  stopThrowing()
  await client.auth.login.mutate({ email, password: PASSWORD })
  t.equal(heard.length, 3, 'nothing after unsubscribing')
  t.equal(auth.snapshot.state, 'signed-in')
  t.throws(() => auth.subscribe('nope' as never), TypeError)
})

t.test('cookie transport: a first visit settles to signed-out, REFRESH_MISSING', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const browser = cookieJarFetch()
  const auth = createBreakwaterAuth({ url: server.url, transport: 'cookie', fetch: browser.fetch })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  const heard: SessionSnapshot[] = []
  auth.subscribe((snapshot) => heard.push(snapshot))
  await t.rejects(client.auth.me.query(), SessionExpiredError)
  t.same(
    heard.map((s) => [s.state, s.reason]),
    [['signed-out', 'REFRESH_MISSING']],
  )
})

t.test('a peer tab signs out: the listener of this one hears it', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const channel = `subscribe-${process.pid}`
  const browser = cookieJarFetch()
  const tab = () =>
    createBreakwaterAuth({
      url: server.url,
      transport: 'cookie',
      fetch: browser.fetch,
      coordination: { channel },
    })
  const a = tab()
  const b = tab()
  t.teardown(() => {
    a.close()
    b.close()
  })
  const clientA = createBreakwaterClient<BreakwaterRouter>({ auth: a })
  const clientB = createBreakwaterClient<BreakwaterRouter>({ auth: b })
  const heardB: SessionSnapshot[] = []
  b.subscribe((snapshot) => heardB.push(snapshot))
  await clientA.auth.login.mutate({ email, password: PASSWORD })
  await until('B hears the sign-in', () => heardB.length === 1)
  t.equal(heardB[0]?.state, 'signed-in', 'a peer signed in')
  await clientB.auth.me.query()
  await clientA.auth.logout.mutate()
  await until('B hears the sign-out', () => b.state === 'signed-out')
  t.same(
    heardB.map((s) => [s.state, s.reason]),
    [
      ['signed-in', undefined],
      ['signed-out', 'LOGGED_OUT'],
    ],
  )
})

t.test(
  'a CLI after logout: calls fail with SessionExpiredError, not a bare TOKEN_MISSING',
  async (t) => {
    const server = await startServer()
    t.teardown(() => server.close())
    const email = await registerUser(server.url)
    const dir = await mkdtemp(path.join(tmpdir(), 'breakwater-subscribe-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'credentials.json')
    // As apps/cli makes its client: bearer, a file store, a fetch that names the agent.
    const cli = () =>
      createBreakwaterClient<BreakwaterRouter>({
        url: server.url,
        transport: 'bearer',
        store: fileTokenStore(file),
        fetch: (input, init) => {
          const headers = new Headers(init?.headers)
          headers.set('user-agent', 'breakwater-cli/test')
          return fetch(input, { ...init, headers } as RequestInit)
        },
      })
    const client = cli()
    await client.auth.login.mutate({ email, password: PASSWORD })
    t.equal((await client.auth.me.query()).user.email, email)
    await client.auth.logout.mutate()
    const refreshesBefore = server.refreshes
    for (const call of [() => client.auth.me.query(), () => client.sessions.list.query()]) {
      const error = await call().catch((e: unknown) => e)
      t.type(error, SessionExpiredError)
      t.equal((error as SessionExpiredError).reason, 'LOGGED_OUT')
      t.equal((error as Error).message, 'Signed out.')
      t.equal(
        readReason((error as Error).cause),
        'TOKEN_MISSING',
        'what the server said, as the cause',
      )
    }
    t.equal(server.refreshes, refreshesBefore, 'no refresh tried')

    // A new run of the CLI on the emptied store has no session to have lost: the server's answer as it came.
    const fresh = await cli()
      .auth.me.query()
      .catch((e: unknown) => e)
    t.notOk(fresh instanceof SessionExpiredError)
    t.equal(readReason(fresh), 'TOKEN_MISSING')
  },
)
