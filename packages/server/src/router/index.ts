import type {
  inferRouterInputs,
  inferRouterOutputs,
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCRootObject,
  TRPCRuntimeConfigOptions,
  TRPCSubscriptionProcedure,
} from '@trpc/server'
import type { z } from 'zod'
import type { AuthenticatedSession } from '../guard/authenticate.js'
import {
  protectedMiddleware,
  protectedProcedure,
  publicMiddleware,
  publicProcedure,
  router,
  teamProtectedMiddleware,
} from '../trpc.js'
import { authProcedures } from './auth.js'
import { type Builders, type UserFieldsSchema, userModel } from './builders.js'
import { mfaProcedures } from './mfa.js'
import { passkeysProcedures } from './passkeys.js'
import { sessionsProcedures } from './sessions.js'

// Breakwater's `refresh` procedures, so the plugin can find where a team
// mounted Breakwater's router (the refresh cookie's path depends on it).
const refreshProcedures = new WeakSet<object>()

/** @internal Whether a procedure is Breakwater's `auth.refresh`. */
export function isBreakwaterRefresh(procedure: unknown): boolean {
  return typeof procedure === 'function' && refreshProcedures.has(procedure)
}

/**
 * Breakwater's own procedures (SPEC §3) on its own tRPC instance (plain JSON).
 * A team merges its procedures in with `mergeRouters(breakwaterRouter, teamRouter)`
 * or nests it under a key, and passes the result to the plugin as `router`.
 * A team with its own tRPC instance uses {@link createBreakwater} instead.
 */
export const breakwaterRouter = (() => {
  const builders: Builders = { publicProcedure, protectedProcedure, users: userModel() }
  const auth = authProcedures(builders)
  refreshProcedures.add(auth.refresh)
  return router({
    auth: router(auth),
    sessions: router(sessionsProcedures(builders)),
    mfa: router({ totp: router(mfaProcedures(builders).totp) }),
    passkeys: router(passkeysProcedures(builders)),
  })
})()

export type BreakwaterRouter = typeof breakwaterRouter

type OwnInputs = inferRouterInputs<BreakwaterRouter>
type OwnOutputs = inferRouterOutputs<BreakwaterRouter>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
/** `{ user }` results with the team's fields on the user. */
type WithFields<TResult, TFields> = TResult extends { user: infer U }
  ? Simplify<Omit<TResult, 'user'> & { user: Simplify<U & TFields> }>
  : TResult
type Mutation<TMeta, I, O> = TRPCMutationProcedure<{ input: I; output: O; meta: TMeta }>
type Query<TMeta, I, O> = TRPCQueryProcedure<{ input: I; output: O; meta: TMeta }>
type Subscription<TMeta, I, O> = TRPCSubscriptionProcedure<{ input: I; output: O; meta: TMeta }>
type Auth = OwnInputs['auth']
type AuthOut = OwnOutputs['auth']

/**
 * Breakwater's procedures as a team's router holds them: `auth.*` and
 * `sessions.*`, with the team's user fields (`TIn` at registration, `TOut` on
 * the user) and the team's procedure metadata type.
 */
export type BreakwaterProcedures<TMeta = object, TIn = unknown, TOut = unknown> = {
  auth: {
    [K in keyof Auth]: K extends 'me'
      ? Query<TMeta, Auth[K], WithFields<AuthOut[K], TOut>>
      : Mutation<
          TMeta,
          K extends 'register' ? Simplify<Auth[K] & TIn> : Auth[K],
          WithFields<AuthOut[K], TOut>
        >
  }
  sessions: {
    list: Query<TMeta, OwnInputs['sessions']['list'], OwnOutputs['sessions']['list']>
    revoke: Mutation<TMeta, OwnInputs['sessions']['revoke'], OwnOutputs['sessions']['revoke']>
    watch: Subscription<TMeta, OwnInputs['sessions']['watch'], OwnOutputs['sessions']['watch']>
  }
  mfa: {
    totp: {
      [K in keyof OwnInputs['mfa']['totp']]: Mutation<
        TMeta,
        OwnInputs['mfa']['totp'][K],
        OwnOutputs['mfa']['totp'][K]
      >
    }
  }
  passkeys: {
    [K in keyof OwnInputs['passkeys']]: K extends 'list'
      ? Query<TMeta, OwnInputs['passkeys'][K], OwnOutputs['passkeys'][K]>
      : Mutation<TMeta, OwnInputs['passkeys'][K], OwnOutputs['passkeys'][K]>
  }
}

/** Options of {@link createBreakwater}. */
export interface CreateBreakwaterOptions<TFields extends UserFieldsSchema | undefined> {
  /**
   * Extra user fields (a zod object): accepted at the top level of
   * `auth.register`, stored with the user, returned on `user` by
   * `auth.register`, `auth.login` and `auth.me`. Unknown keys are then refused.
   */
  readonly userFields?: TFields
}

type FieldsIn<TFields> = TFields extends UserFieldsSchema ? z.input<TFields> : unknown
type FieldsOut<TFields> = TFields extends UserFieldsSchema ? z.output<TFields> : unknown

/**
 * Breakwater's procedures built on a team's own tRPC instance (its context,
 * transformer, error formatter and metadata), to mount under any key of the
 * team's router, and the team's protected-procedure builder.
 *
 * The instance's `errorFormatter` must be wrapped in
 * `breakwaterErrorFormatter()` so `error.data.reason` reaches the client; the
 * plugin checks this at start. Pass the router and the team's
 * `createContext` to the plugin, which mounts it at `prefix`.
 *
 * @example
 * const t = initTRPC.context<Context>().create({ transformer: superjson, errorFormatter: breakwaterErrorFormatter() })
 * const auth = createBreakwater(t, { userFields: z.object({ company: z.string().max(100) }) })
 * export const appRouter = t.router({ account: auth.router, notes: t.router({ mine: auth.protectedProcedure.query(…) }) })
 * await app.register(breakwater, { database, secret, router: appRouter, createContext })
 */
export function createBreakwater<
  TContext extends object,
  TMeta extends object,
  TOptions extends TRPCRuntimeConfigOptions<TContext, TMeta>,
  TFields extends UserFieldsSchema | undefined = undefined,
>(t: TRPCRootObject<TContext, TMeta, TOptions>, options: CreateBreakwaterOptions<TFields> = {}) {
  // The context a team's handler sees: its own, plus `session`.
  const teamProtected = t.procedure.use(
    async (opts) =>
      (await teamProtectedMiddleware(opts as never)) as Awaited<
        ReturnType<typeof opts.next<{ session: AuthenticatedSession }>>
      >,
  )
  // Breakwater's own procedures also see the request, reply and runtime.
  const builders = {
    publicProcedure: t.procedure.use(publicMiddleware as never),
    protectedProcedure: t.procedure.use(protectedMiddleware as never),
    users: userModel(options.userFields),
  } as unknown as Builders
  const auth = authProcedures(builders)
  refreshProcedures.add(auth.refresh)
  const record = {
    auth: t.router(auth as never),
    sessions: t.router(sessionsProcedures(builders) as never),
    mfa: t.router({ totp: t.router(mfaProcedures(builders).totp as never) } as never),
    passkeys: t.router(passkeysProcedures(builders) as never),
  }
  return {
    /** Breakwater's `auth.*` and `sessions.*`, to nest under a key of the team's router. */
    router: t.router(record as never) as unknown as TRPCBuiltRouter<
      TRPCRootObject<TContext, TMeta, TOptions>['_config']['$types'],
      BreakwaterProcedures<TMeta, FieldsIn<TFields>, FieldsOut<TFields>>
    >,
    /** The team's base procedure: Breakwater's storage-error mapping is not applied. */
    publicProcedure: t.procedure,
    /** Needs a valid access token of a live session; `ctx.session` holds it (user id, session id, claims). */
    protectedProcedure: teamProtected,
  }
}
