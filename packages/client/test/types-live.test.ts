// Types of the live-session API, the `fetch` option, and `error.data.reason`.
// The expectTypeOf lines are checked by `tsc` (pnpm typecheck); the test below
// them compiles a browser app's code with `lib: ["DOM"]` and `--strict`, as a
// user's project would, and fails on any diagnostic.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BreakwaterReason as ProtocolReason } from '@breakwater/protocol'
import type { BreakwaterRouter } from '@breakwater/server'
import { type httpBatchLink, isTRPCClientError, type TRPCClientError } from '@trpc/client'
import { expectTypeOf } from 'expect-type'
import t from 'tap'
import {
  type BreakwaterAuth,
  type BreakwaterAuthOptions,
  createBreakwaterAuth,
  createBreakwaterClient,
  type FetchEsque,
  type SessionEndReason,
  type SessionExpiredEvent,
  type SessionSnapshot,
} from '../src/index.js'
import { closeDatabase, startServer } from './helpers.js'

t.teardown(closeDatabase)

const HERE = path.dirname(fileURLToPath(import.meta.url))

t.test('subscribe, snapshot and onSessionExpired, as documented', async (t) => {
  expectTypeOf<SessionSnapshot>().toEqualTypeOf<{
    readonly state: 'unknown' | 'signed-in' | 'signed-out'
    readonly accessTokenExpiresAt: Date | undefined
    readonly reason: SessionEndReason | undefined
    readonly revocation: string | undefined
  }>()
  expectTypeOf<BreakwaterAuth['subscribe']>().toEqualTypeOf<
    (listener: (snapshot: SessionSnapshot) => void) => () => void
  >()
  expectTypeOf<BreakwaterAuth['snapshot']>().toEqualTypeOf<SessionSnapshot>()
  expectTypeOf<SessionExpiredEvent>().toEqualTypeOf<{
    reason: SessionEndReason
    revocation?: string
  }>()
  expectTypeOf<BreakwaterAuthOptions['live']>().toEqualTypeOf<boolean | undefined>()
  // useSyncExternalStore(subscribe, getSnapshot): a detached method must still work.
  const auth = createBreakwaterAuth({ url: '/trpc', transport: 'bearer' })
  const { subscribe } = auth
  let heard = 0
  const stop = subscribe(() => heard++)
  await auth.signOut()
  stop()
  await auth.signOut()
  t.equal(heard, 1, 'subscribe works detached from its object')
})

t.test('the fetch option is tRPC’s FetchEsque, both ways', async (t) => {
  type LinkFetch = NonNullable<Parameters<typeof httpBatchLink>[0]['fetch']>
  expectTypeOf<FetchEsque>().toEqualTypeOf<LinkFetch>()
  expectTypeOf<BreakwaterAuth['fetch']>().toEqualTypeOf<FetchEsque | undefined>()
  expectTypeOf<NonNullable<BreakwaterAuthOptions['fetch']>>().toEqualTypeOf<FetchEsque>()
  expectTypeOf(globalThis.fetch).toExtend<FetchEsque>()
  const auth = createBreakwaterAuth({ url: 'http://127.0.0.1:9/trpc', transport: 'cookie' })
  t.type(auth.fetch, 'function')
})

t.test('error.data.reason is typed on TRPCClientError<AppRouter>', async (t) => {
  type Data = NonNullable<TRPCClientError<BreakwaterRouter>['data']>
  expectTypeOf<Data['reason']>().toEqualTypeOf<ProtocolReason | undefined>()
  // And it is there at run time, through the server's error formatter.
  const server = await startServer()
  t.teardown(() => server.close())
  const client = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
  const error = await client.auth.me.query().catch((e: unknown) => e)
  if (!isTRPCClientError<BreakwaterRouter>(error)) throw error
  const reason = error.data?.reason
  t.equal(reason, 'TOKEN_MISSING')
})

t.test('a browser app compiles under lib DOM, --strict', async (t) => {
  const ts = (await import('typescript')).default
  const dir = await mkdtemp(path.join(HERE, '.dom-check-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'app.ts')
  // What the README shows, plus the compositions issue #13 names.
  await writeFile(
    file,
    `
import type { BreakwaterRouter } from '@breakwater/server'
import { createTRPCClient, httpBatchLink, httpLink, loggerLink } from '@trpc/client'
import {
  createBreakwaterAuth,
  createBreakwaterClient,
  refreshLink,
  type SessionSnapshot,
} from '../../src/index.js'

type AppRouter = BreakwaterRouter

const auth = createBreakwaterAuth({ url: '/trpc', transport: 'cookie', fetch: window.fetch })
export const batched = createTRPCClient<AppRouter>({
  links: [loggerLink(), refreshLink(auth), httpBatchLink({ url: auth.url, headers: auth.headers, fetch: auth.fetch })],
})
export const single = createTRPCClient<AppRouter>({
  links: [refreshLink(auth), httpLink({ url: auth.url, headers: auth.headers, fetch: auth.fetch })],
})
export const wrapped = createBreakwaterAuth({
  url: '/trpc',
  transport: 'cookie',
  fetch: (input, init) => fetch(input, { ...init, keepalive: true }),
})
export const bound = createBreakwaterAuth({ url: '/trpc', transport: 'cookie', fetch: window.fetch.bind(window) })
export const client = createBreakwaterClient<AppRouter>({
  url: '/trpc',
  transport: 'cookie',
  live: true,
  onSessionExpired: ({ reason, revocation }) => location.assign('/login?why=' + (revocation ?? reason)),
})
export const stop: () => void = auth.subscribe((snapshot: SessionSnapshot) => {
  document.title = snapshot.state === 'signed-out' ? 'Signed out (' + snapshot.reason + ')' : snapshot.state
})
`,
  )
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.dom.d.ts', 'lib.es2022.d.ts'],
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  })
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  t.same(diagnostics, [], 'no diagnostics')
})
