// The team's tRPC instance, as it was before Breakwater (its context, superjson, its
// error formatter), with Breakwater's procedures built on it.
import { breakwaterErrorFormatter, createBreakwater } from '@breakwater/server'
import { initTRPC } from '@trpc/server'
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify'
import type { Kysely } from 'kysely'
import superjson from 'superjson'
import { z } from 'zod'
import type { TeamDB } from './db/schema.js'

export interface Context {
  db: Kysely<TeamDB>
  requestId: string
}

/** The team's context function; the plugin calls it for every tRPC request. */
export function contextFor(db: Kysely<TeamDB>) {
  return ({ req }: CreateFastifyContextOptions): Context => ({ db, requestId: String(req.id) })
}

export const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // The team's formatter adds the request id to every error; the wrapper keeps
  // Breakwater's `error.data.reason` and drops stack traces from Breakwater's errors.
  errorFormatter: breakwaterErrorFormatter(({ shape, ctx }) => ({
    ...shape,
    data: { ...shape.data, requestId: (ctx as Context | undefined)?.requestId ?? null },
  })),
})

/** What a user gives at registration beside email and password; returned by `auth.me`. */
export const userFields = z.object({ company: z.string().trim().min(1).max(100) })

/** Breakwater's router and procedures on the team's instance. */
export const auth = createBreakwater(t, { userFields })
