// The team's router: Breakwater under `account`, the team's own procedures beside it.
import { TRPCError } from '@trpc/server'
import { findProfile, listTeamUsers } from './db/queries.js'
import { auth, t } from './trpc.js'

export const appRouter = t.router({
  // account.auth.register, account.auth.login, account.auth.me, account.sessions.list, …
  account: auth.router,
  profile: t.router({
    /** The signed-in user's row of the team's own `public.profiles`. */
    mine: auth.protectedProcedure.query(async ({ ctx }) => {
      const profile = await findProfile(ctx.db, ctx.session.userId)
      if (!profile) throw new TRPCError({ code: 'NOT_FOUND', message: 'No profile.' })
      return profile
    }),
  }),
  // The team's forum handles, from its own `public.users`: public, as before.
  forum: t.router({
    handles: t.procedure.query(async ({ ctx }) =>
      (await listTeamUsers(ctx.db)).map((user) => user.handle),
    ),
  }),
})

export type AppRouter = typeof appRouter
