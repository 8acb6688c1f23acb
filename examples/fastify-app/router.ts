// The team's own procedures beside Breakwater's: one router, one `AppRouter` type.
import { breakwaterRouter, mergeRouters, protectedProcedure, router } from '@breakwater/server'
import { z } from 'zod'

const notesRouter = router({
  notes: router({
    // Runs only with a valid access token of a live session; `ctx.session` is verified.
    greet: protectedProcedure
      .input(z.object({ name: z.string().min(1).max(50) }))
      .query(({ ctx, input }) => ({
        greeting: `Hello, ${input.name}!`,
        userId: ctx.session.userId,
      })),
  }),
})

export const appRouter = mergeRouters(breakwaterRouter, notesRouter)
export type AppRouter = typeof appRouter
