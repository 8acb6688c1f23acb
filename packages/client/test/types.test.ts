import {
  type BreakwaterRouter,
  breakwaterRouter,
  mergeRouters,
  protectedProcedure,
  router,
  type BreakwaterReason as ServerReason,
} from '@breakwater/server'
import { expectTypeOf } from 'expect-type'
import t from 'tap'
import { z } from 'zod'
import {
  type BreakwaterReason,
  createBreakwaterClient,
  readReason,
  type SessionExpiredError,
} from '../src/index.js'
import { closeDatabase, PASSWORD, registerUser, startServer } from './helpers.js'

t.teardown(closeDatabase)

// A team's own procedures, merged with Breakwater's.
const notesRouter = router({
  notes: router({
    add: protectedProcedure
      .input(z.object({ title: z.string(), pinned: z.boolean().optional() }))
      .mutation(({ input, ctx }) => ({ id: 1, title: input.title, owner: ctx.session.userId })),
    count: protectedProcedure.query(() => 42 as number),
  }),
})
const appRouter = mergeRouters(breakwaterRouter, notesRouter)
type AppRouter = typeof appRouter

t.test('types: the reason union matches the server', async (t) => {
  expectTypeOf<BreakwaterReason>().toEqualTypeOf<ServerReason>()
  t.pass()
})

t.test("types and wire: a team's procedure is typed on the client and callable", async (t) => {
  const server = await startServer({ router: appRouter })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const client = createBreakwaterClient<AppRouter>({ url: server.url, transport: 'bearer' })
  const login = await client.auth.login.mutate({ email, password: PASSWORD })
  expectTypeOf(login.user.email).toEqualTypeOf<string>()

  const note = await client.notes.add.mutate({ title: 'hello' })
  expectTypeOf(note).toEqualTypeOf<{ id: number; title: string; owner: string }>()
  t.equal(note.title, 'hello')
  t.equal(note.owner, login.user.id)
  expectTypeOf(client.notes.count.query).returns.resolves.toEqualTypeOf<number>()
  expectTypeOf(client.notes.add.mutate)
    .parameter(0)
    .toEqualTypeOf<{ title: string; pinned?: boolean | undefined }>()

  // Wrong input types fail to compile (checked by `pnpm typecheck`); at run time the server refuses them.
  // @ts-expect-error title must be a string
  const wrong = await client.notes.add.mutate({ title: 42 }).catch((e: unknown) => e)
  t.equal((wrong as { data?: { httpStatus?: number } }).data?.httpStatus, 400)
  // @ts-expect-error no such procedure
  void client.notes.remove

  // The built-in router alone is typed too, and without the team's procedures.
  const plain = createBreakwaterClient<BreakwaterRouter>({ url: server.url, transport: 'bearer' })
  // @ts-expect-error the built-in router has no notes
  void plain.notes
  const error = await plain.auth.me.query().catch((e: unknown) => e)
  expectTypeOf(readReason(error)).toEqualTypeOf<
    BreakwaterReason | 'LOGGED_OUT' | 'REFRESH_UNAVAILABLE' | undefined
  >()
  t.equal(readReason(error), 'TOKEN_MISSING')
  expectTypeOf<SessionExpiredError['reason']>().toEqualTypeOf<
    | 'SESSION_REVOKED'
    | 'SESSION_EXPIRED'
    | 'REFRESH_MISSING'
    | 'REFRESH_INVALID'
    | 'REFRESH_REUSED'
    | 'LOGGED_OUT'
  >()
})
