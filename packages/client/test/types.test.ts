// Type assertions here are checked by `tsc` (pnpm typecheck), not by tap: each
// compares what the client infers with a type written out below from SPEC §3,
// never with a type imported from the code under test, so a change on either
// side fails to compile.

import { BREAKWATER_REASONS } from '@breakwater/protocol'
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
  type Clock,
  createBreakwaterClient,
  readReason,
  type SessionExpiredError,
} from '../src/index.js'
import { closeDatabase, PASSWORD, registerUser, signedIn, startServer } from './helpers.js'

t.teardown(closeDatabase)

/**
 * SPEC §3's reason table, copied by hand, with §9's `LINK_INVALID` and
 * `EMAIL_NOT_VERIFIED`, §10's `REAUTH_REQUIRED` and `MFA_ALREADY_ENABLED`, and the
 * reasons the README documents: the passkey ones (`PASSKEY_REJECTED`, `PASSKEY_NOT_FOUND`)
 * and a team hook's refusals (`REGISTRATION_REJECTED`, `DELETION_REJECTED`).
 */
const SPEC_REASONS = [
  'TOKEN_MISSING',
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'REFRESH_MISSING',
  'REFRESH_INVALID',
  'REFRESH_REUSED',
  'INVALID_CREDENTIALS',
  'RATE_LIMITED',
  'CSRF_REJECTED',
  'EMAIL_TAKEN',
  'SESSION_NOT_FOUND',
  'WEAK_PASSWORD',
  'REGISTRATION_REJECTED',
  'DELETION_REJECTED',
  'LINK_INVALID',
  'EMAIL_NOT_VERIFIED',
  'REAUTH_REQUIRED',
  'MFA_ALREADY_ENABLED',
  'PASSKEY_REJECTED',
  'PASSKEY_NOT_FOUND',
  'DB_UNAVAILABLE',
] as const
type SpecReason = (typeof SPEC_REASONS)[number]

/** SPEC §3's `user`, `session`, `tokens` and `sessions.list` rows (instants are ISO-8601 strings). */
type User = {
  id: string
  email: string
  displayName: string | null
  emailVerified: boolean
  createdAt: string
}
type Session = {
  id: string
  accessTokenExpiresAt: string
  refreshTokenExpiresAt: string
  expiresAt: string
}
type Tokens = {
  accessToken: string
  refreshToken: string
  accessTokenExpiresAt: string
  refreshTokenExpiresAt: string
}
/** SPEC §10: a login of a user with a second factor answers a challenge and no session. */
type SecondFactorRequired = {
  readonly mfaRequired: true
  readonly challenge: string
  readonly methods: ('totp' | 'recovery_code' | 'passkey')[]
}
type SessionRow = {
  id: string
  current: boolean
  createdAt: string
  lastUsedAt: string
  idleExpiresAt: string
  expiresAt: string
  userAgent: string | null
  ip: string | null
}

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

t.test('the reason union is SPEC §3 on the client and on the server', async (t) => {
  expectTypeOf<BreakwaterReason>().toEqualTypeOf<SpecReason>()
  expectTypeOf<ServerReason>().toEqualTypeOf<SpecReason>()
  // The same check on the values the server and client share.
  t.same([...BREAKWATER_REASONS].sort(), [...SPEC_REASONS].sort())
})

t.test('a clock made of the global timers fits the clock option', async (t) => {
  const clock = { now: Date.now, setTimeout, clearTimeout }
  expectTypeOf(clock).toExtend<Clock>()
  expectTypeOf<{ now(): number }>().not.toExtend<Clock>()
  t.doesNotThrow(() =>
    createBreakwaterClient<BreakwaterRouter>({ url: '/trpc', transport: 'bearer', clock }),
  )
})

t.test("types and wire: a team's procedure is typed on the client and callable", async (t) => {
  const server = await startServer({ router: appRouter })
  t.teardown(() => server.close())
  const email = await registerUser(server.url)
  const client = createBreakwaterClient<AppRouter>({ url: server.url, transport: 'bearer' })
  const answer = await client.auth.login.mutate({ email, password: PASSWORD })
  // SPEC §10: signed in, or a second factor to answer first.
  expectTypeOf(answer).toEqualTypeOf<
    { user: User; session: Session; tokens?: Tokens } | SecondFactorRequired
  >()
  expectTypeOf<
    Extract<typeof answer, { mfaRequired: true }>
  >().toEqualTypeOf<SecondFactorRequired>()
  expectTypeOf(client.auth.signInWithCode.mutate).returns.resolves.toEqualTypeOf<typeof answer>()
  // This user has no second factor: signed in.
  const login = signedIn(answer)
  expectTypeOf(login).toEqualTypeOf<{ user: User; session: Session; tokens?: Tokens }>()
  // Answering the second factor signs in: never a second challenge.
  expectTypeOf(client.auth.verifySecondFactor.mutate).returns.resolves.toEqualTypeOf<typeof login>()
  // So does a passkey: it is both factors in one.
  expectTypeOf(client.auth.loginWithPasskey.mutate).returns.resolves.toEqualTypeOf<typeof login>()
  expectTypeOf(client.passkeys.list.query).returns.resolves.toEqualTypeOf<{
    passkeys: {
      readonly id: string
      readonly name: string
      readonly synced: boolean
      readonly createdAt: string
      readonly lastUsedAt: string | null
    }[]
  }>()
  expectTypeOf(client.auth.login.mutate)
    .parameter(0)
    .toEqualTypeOf<{ email: string; password: string; transport?: 'cookie' | 'bearer' }>()
  t.equal(login.user.email, email)

  const me = await client.auth.me.query()
  expectTypeOf(me).toEqualTypeOf<{ user: User; session: Session }>()
  t.equal(me.session.id, login.session.id)
  const sessions = await client.sessions.list.query()
  expectTypeOf(sessions).toEqualTypeOf<SessionRow[]>()
  t.equal(sessions.filter((s) => s.current).length, 1)

  const note = await client.notes.add.mutate({ title: 'hello' })
  expectTypeOf(note).toEqualTypeOf<{ id: number; title: string; owner: string }>()
  t.equal(note.title, 'hello')
  t.equal(note.owner, login.user.id)
  expectTypeOf(client.notes.count.query).returns.resolves.toEqualTypeOf<number>()
  t.equal(await client.notes.count.query(), 42)
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
    SpecReason | 'LOGGED_OUT' | 'REFRESH_UNAVAILABLE' | undefined
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
