import { forEachDialect, openTestDatabase } from '@breakwater/db/testing'
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client'
import { type inferRouterInputs, type inferRouterOutputs, initTRPC, TRPCError } from '@trpc/server'
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify'
import { expectTypeOf } from 'expect-type'
import Fastify from 'fastify'
import superjson from 'superjson'
import t, { type Test } from 'tap'
import { z } from 'zod'
import {
  type BreakwaterReason,
  BreakwaterSetupError,
  breakwater,
  breakwaterErrorFormatter,
  breakwaterRouter,
  createBreakwater,
} from '../src/index.js'
import { PASSWORD, startServer, TEST_PLUGIN_TIMEOUT, TEST_SECRET, uniqueEmail } from './helpers.js'

// A team's app as it stands before Breakwater: its own tRPC instance with
// superjson, its own context and error formatter, its own `sessions` router.
interface TeamContext {
  teamDb: string
  requestId: string
  /** A name Breakwater also uses internally: the team's own meaning must survive. */
  res: string
}
function createContext({ req }: CreateFastifyContextOptions): TeamContext {
  return { teamDb: 'team-db', requestId: String(req.id), res: 'team-res' }
}

const team = initTRPC.context<TeamContext>().create({
  transformer: superjson,
  errorFormatter: breakwaterErrorFormatter(({ shape, ctx }) => ({
    ...shape,
    data: { ...shape.data, requestId: (ctx as TeamContext | undefined)?.requestId ?? null },
  })),
})

const auth = createBreakwater(team, {
  userFields: z.object({
    company: z.string().trim().min(1).max(100),
    plan: z.enum(['free', 'pro']).default('free'),
  }),
})

const appRouter = team.router({
  account: auth.router,
  // A key Breakwater also uses at its top level: no clash under `account`.
  sessions: team.router({ teamCount: team.procedure.query(() => 3) }),
  notes: team.router({
    add: auth.protectedProcedure
      .input(z.object({ text: z.string().min(1).max(200) }))
      .mutation(({ ctx, input }) => ({
        author: ctx.session.userId,
        teamDb: ctx.teamDb,
        teamRes: ctx.res,
        text: input.text,
        at: new Date(Date.UTC(2026, 11, 1)),
      })),
    fail: team.procedure.query(() => {
      throw new TRPCError({ code: 'CONFLICT', message: 'the team says no' })
    }),
  }),
})
type AppRouter = typeof appRouter

function clientFor(url: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/api`, transformer: superjson, headers })],
  })
}

async function serveTeam(
  t: Test,
  database: Parameters<typeof startServer>[0],
  options: Parameters<typeof startServer>[1] = {},
) {
  const server = await startServer(database, {
    router: appRouter,
    createContext,
    prefix: '/api',
    ...options,
  })
  t.teardown(server.close)
  return server
}

t.test('types: Breakwater under a key of the team router, with the team fields', async (t) => {
  type In = inferRouterInputs<AppRouter>
  type Out = inferRouterOutputs<AppRouter>
  expectTypeOf<In['account']['auth']['register']>().toMatchTypeOf<{
    email: string
    password: string
    company: string
  }>()
  expectTypeOf<Out['account']['auth']['me']['user']['company']>().toEqualTypeOf<string>()
  expectTypeOf<Out['account']['auth']['me']['user']['plan']>().toEqualTypeOf<'free' | 'pro'>()
  // A login answers a session, or a second-factor challenge (SPEC §10).
  type Login = Out['account']['auth']['login']
  expectTypeOf<Exclude<Login, { mfaRequired: true }>['user']['email']>().toEqualTypeOf<string>()
  expectTypeOf<Extract<Login, { mfaRequired: true }>['challenge']>().toEqualTypeOf<string>()
  expectTypeOf<Out['notes']['add']['teamDb']>().toEqualTypeOf<string>()
  expectTypeOf<Out['sessions']['teamCount']>().toEqualTypeOf<number>()
  // The team's formatter keeps its own fields and gains `reason`, typed on the client.
  type ErrorData = TRPCClientError<AppRouter>['data']
  expectTypeOf<NonNullable<ErrorData>['reason']>().toEqualTypeOf<BreakwaterReason | undefined>()
  expectTypeOf<NonNullable<ErrorData>['requestId']>().toEqualTypeOf<string | null>()
  // @ts-expect-error a field the team did not declare is not in the input type
  expectTypeOf<In['account']['auth']['register']['compnay']>().toBeString()
  t.pass('compiled')
})

t.test('the team instance serves both, with its context, transformer and formatter', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const server = await serveTeam(t, database)
    const email = uniqueEmail('team')
    const registered = await clientFor(server.url).account.auth.register.mutate({
      email,
      password: PASSWORD,
      company: '  Acme  ',
      plan: 'pro',
      transport: 'bearer',
    })
    t.equal(registered.user.company, 'Acme', 'the field, as its schema parsed it')
    t.equal(registered.user.plan, 'pro')
    const token = registered.tokens?.accessToken
    t.ok(token, 'bearer tokens in the body')
    const signedIn = clientFor(server.url, { authorization: `Bearer ${token}` })

    const me = await signedIn.account.auth.me.query()
    t.same(
      { email: me.user.email, company: me.user.company, plan: me.user.plan },
      { email: registered.user.email, company: 'Acme', plan: 'pro' },
      'auth.me returns the stored fields',
    )
    const note = await signedIn.notes.add.mutate({ text: 'hello' })
    t.equal(note.teamDb, 'team-db', "the team's own context reaches its procedure")
    t.equal(note.teamRes, 'team-res', 'untouched, even where Breakwater uses the same name')
    t.equal(note.author, registered.user.id, 'beside the verified session')
    t.ok(note.at instanceof Date, 'and superjson carries a Date')
    t.equal(await signedIn.sessions.teamCount.query(), 3, "the team's own sessions router")
    const list = await signedIn.account.sessions.list.query()
    t.equal(list.length, 1, "and Breakwater's, under its key")

    const defaulted = await clientFor(server.url).account.auth.register.mutate({
      email: uniqueEmail('team'),
      password: PASSWORD,
      company: 'Beta',
      transport: 'bearer',
    })
    t.equal(defaulted.user.plan, 'free', 'a default of the schema applies')
  }),
)

t.test('errors keep their reason and the team formatter fields, never a stack', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await serveTeam(t, database)
  const anonymous = clientFor(server.url)

  const wrong = await anonymous.account.auth.login
    .mutate({ email: uniqueEmail('nobody'), password: PASSWORD, transport: 'bearer' })
    .catch((error: unknown) => error)
  t.ok(wrong instanceof TRPCClientError)
  const data = (wrong as TRPCClientError<AppRouter>).data
  t.equal(data?.reason, 'INVALID_CREDENTIALS')
  t.match(data?.requestId, /^req-/, "the team formatter's own field is kept")
  t.notOk(data && 'stack' in data, 'no stack trace')

  const missing = await anonymous.notes.add.mutate({ text: 'x' }).catch((error: unknown) => error)
  t.equal((missing as TRPCClientError<AppRouter>).data?.reason, 'TOKEN_MISSING')

  const teamError = await anonymous.notes.fail.query().catch((error: unknown) => error)
  t.equal((teamError as TRPCClientError<AppRouter>).message, 'the team says no')
  t.equal(
    (teamError as TRPCClientError<AppRouter>).data?.reason,
    undefined,
    'the team error is its own',
  )

  // A typo in a field name is an error, and nothing is created.
  const email = uniqueEmail('typo')
  const typo = await anonymous.account.auth.register
    .mutate({ email, password: PASSWORD, company: 'Acme', compnay: 'Acme' } as never)
    .catch((error: unknown) => error)
  t.equal(
    (typo as TRPCClientError<AppRouter>).data?.code,
    'BAD_REQUEST',
    'an unknown key is refused',
  )
  const tooLong = await anonymous.account.auth.register
    .mutate({ email, password: PASSWORD, company: 'x'.repeat(101) })
    .catch((error: unknown) => error)
  t.equal(
    (tooLong as TRPCClientError<AppRouter>).data?.code,
    'BAD_REQUEST',
    'a bad field is refused',
  )
  const missingField = await anonymous.account.auth.register
    .mutate({ email, password: PASSWORD } as never)
    .catch((error: unknown) => error)
  t.equal(
    (missingField as TRPCClientError<AppRouter>).data?.code,
    'BAD_REQUEST',
    'a required field too',
  )
  const after = await anonymous.account.auth.register.mutate({
    email,
    password: PASSWORD,
    company: 'Acme',
    transport: 'bearer',
  })
  t.equal(
    after.user.email,
    email.toLowerCase(),
    'the address was never taken by the refused attempts',
  )
})

t.test('cookie transport: the refresh cookie is scoped to the mounted path', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await serveTeam(t, database)
  const response = await fetch(`${server.url}/api/account.auth.register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify(
      superjson.serialize({ email: uniqueEmail('cookie'), password: PASSWORD, company: 'Acme' }),
    ),
  })
  t.equal(response.status, 200)
  const cookies = response.headers.getSetCookie()
  const refresh = cookies.find((cookie) => cookie.startsWith('bw_refresh='))
  t.match(refresh, /Path=\/api\/account\.auth\.refresh/, 'the refresh path under prefix and key')
  const access = cookies.find((cookie) => cookie.startsWith('bw_access='))
  t.match(access, /Path=\//)

  // A browser sends the refresh cookie to that path only: the refresh works there.
  const refreshed = await fetch(`${server.url}/api/account.auth.refresh`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: server.url,
      'x-breakwater-csrf': '1',
      cookie: cookies.map((cookie) => cookie.split(';')[0]).join('; '),
    },
    body: JSON.stringify(superjson.serialize(undefined)),
  })
  t.equal(refreshed.status, 200, 'the refresh through the namespaced path')
})

t.test('a missing piece fails at boot, in one line that names it', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const boot = async (options: Record<string, unknown>) => {
    const app = Fastify({ logger: false, pluginTimeout: TEST_PLUGIN_TIMEOUT })
    try {
      await app.register(breakwater, { database, secret: TEST_SECRET, ...options })
      await app.ready()
      return undefined
    } catch (error) {
      return error
    } finally {
      await app.close()
    }
  }
  const unwrapped = initTRPC.context<TeamContext>().create({ transformer: superjson })
  const plain = createBreakwater(unwrapped)
  const problems: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a formatter that drops the reason',
      { router: unwrapped.router({ account: plain.router }), createContext },
      /router is built on a tRPC instance whose errorFormatter drops error\.data\.reason: create it with errorFormatter: breakwaterErrorFormatter/,
    ],
    [
      'no createContext for a team instance',
      { router: appRouter },
      /router is built on your own tRPC instance: pass your createContext too/,
    ],
    [
      'no Breakwater procedures at all',
      { router: team.router({ notes: team.router({}) }), createContext },
      /router holds none of Breakwater's procedures/,
    ],
    [
      'Breakwater twice',
      {
        router: team.router({ a: auth.router, b: auth.router }),
        createContext,
      },
      /router holds Breakwater's procedures 2 times \(a\.auth\.refresh, b\.auth\.refresh\)/,
    ],
    ['createContext not a function', { createContext: 'nope' }, /createContext must be a function/],
    [
      'a hook not a function',
      { hooks: { afterSignIn: 1 } },
      /hooks\.afterSignIn must be a function/,
    ],
    ['an unknown hook', { hooks: { beforeLogin: () => {} } }, /hooks\.beforeLogin is not a hook/],
    [
      'a bad SameSite',
      { cookieSameSite: 'sometimes' },
      /cookieSameSite must be lax, strict or none/,
    ],
    [
      'a bad cookie domain',
      { cookieDomain: 'https://example.com/' },
      /cookieDomain must be a host name/,
    ],
  ]
  for (const [name, options, message] of problems) {
    const error = await boot(options)
    t.ok(error instanceof BreakwaterSetupError, `${name}: a setup error`)
    t.match((error as Error).message, message, name)
    t.notOk((error as Error).message.includes('\n'), `${name}: one line`)
  }
  t.equal(await boot({ router: breakwaterRouter }), undefined, "Breakwater's own router boots")

  t.throws(
    () => createBreakwater(team, { userFields: z.object({ email: z.string() }) }),
    /userFields may not redefine email/,
    'a field may not shadow a Breakwater key',
  )
  t.throws(
    () => createBreakwater(team, { userFields: z.string() as never }),
    /userFields must be a zod object/,
  )
})
