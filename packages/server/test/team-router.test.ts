import { openTestDatabase } from '@breakwater/db/testing'
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import { expectTypeOf } from 'expect-type'
import t from 'tap'
import { z } from 'zod'
import {
  breakwaterRouter,
  mergeRouters,
  protectedProcedure,
  publicProcedure,
  router,
} from '../src/index.js'
import { Client, registerBearer, startServer } from './helpers.js'

// What a team writes: its own procedures beside Breakwater's, one AppRouter type.
const notesRouter = router({
  notes: router({
    add: protectedProcedure
      .input(z.object({ text: z.string().min(1).max(200) }))
      .mutation(({ ctx, input }) => ({
        author: ctx.session.userId,
        text: input.text,
      })),
    count: publicProcedure.query(() => 0),
  }),
})
const appRouter = mergeRouters(breakwaterRouter, notesRouter)
type AppRouter = typeof appRouter

t.test('a team merges its procedures and gets one AppRouter type', async (t) => {
  expectTypeOf<inferRouterInputs<AppRouter>['notes']['add']>().toEqualTypeOf<{ text: string }>()
  expectTypeOf<inferRouterOutputs<AppRouter>['notes']['add']>().toEqualTypeOf<{
    author: string
    text: string
  }>()
  expectTypeOf<inferRouterInputs<AppRouter>['auth']['login']>().toMatchTypeOf<{
    email: string
    password: string
  }>()
  expectTypeOf<
    inferRouterOutputs<AppRouter>['sessions']['list'][number]['current']
  >().toEqualTypeOf<boolean>()
  // @ts-expect-error a wrong input type does not compile
  expectTypeOf<inferRouterInputs<AppRouter>['notes']['add']>().toEqualTypeOf<{ text: number }>()

  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await startServer(database, { router: appRouter })
  t.teardown(server.close)
  const { client, result } = await registerBearer(server.url)
  const added = await client.mutation<{ author: string; text: string }>('notes.add', {
    text: 'hello',
  })
  t.same(
    added.data,
    { author: result.user.id, text: 'hello' },
    'the team procedure sees the verified session',
  )
  const anonymous = await new Client(server.url).mutation('notes.add', { text: 'hello' })
  t.equal(anonymous.reason, 'TOKEN_MISSING', 'and is protected like ours')
  const invalid = await client.mutation('notes.add', { text: 42 })
  t.equal(invalid.status, 400)
  t.equal(
    (await client.query('auth.me')).status,
    200,
    "Breakwater's own procedures are still there",
  )
})

t.test('plugin options are validated once, at registration', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no database', { database: undefined }, /database must be/],
    ['leeway over 30s', { database, clockLeeway: '31s' }, /clockLeeway must be at most 30s/],
    ['bad duration', { database, accessTokenTtl: 'soon' }, /accessTokenTtl/],
    [
      'idle shorter than access',
      { database, accessTokenTtl: '1h', refreshIdleTtl: '30m' },
      /refreshIdleTtl must be longer/,
    ],
    [
      'bad limit',
      { database, loginAccountLimit: 'five' },
      /loginAccountLimit must look like 5\/15m/,
    ],
    ['bad origin', { database, allowedOrigins: ['javascript:alert(1)'] }, /allowedOrigins/],
    [
      'weak argon2',
      { database, argon2: { memoryCost: 1024 } },
      /argon2.memoryCost must be ≥ 19456/,
    ],
    ['bad prefix', { database, prefix: 'trpc' }, /prefix must be a path/],
  ]
  for (const [name, options, message] of bad) {
    const error = await startServer(database, options as never).then(
      async (server) => {
        await server.close()
        return undefined
      },
      (e: unknown) => e as Error,
    )
    t.ok(error instanceof TypeError, `${name}: TypeError`)
    t.match(error?.message, /^@breakwater\/server: /, `${name}: prefixed`)
    t.match(error?.message, message, name)
  }
})
