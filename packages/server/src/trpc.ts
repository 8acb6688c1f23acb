import { DatabaseError, isUnavailableError } from '@breakwater/db'
import { initTRPC, TRPCError } from '@trpc/server'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ZodError } from 'zod'
import { BreakwaterError, type BreakwaterReason, breakwaterErrorOf } from './errors.js'
import { type AuthenticatedSession, authenticate } from './guard/authenticate.js'
import type { Runtime } from './runtime.js'

/** The tRPC context of every Breakwater procedure, and of a team's own. */
export interface BreakwaterContext {
  req: FastifyRequest
  res: FastifyReply
  /** @internal the plugin's services; not part of the public contract. */
  runtime: Runtime
}

/** The shape of `error.data` on the wire. */
export interface BreakwaterErrorData {
  code: string
  httpStatus: number
  path?: string
  reason?: BreakwaterReason
  issues?: Array<{ path: Array<string | number>; message: string; code: string }>
}

const t = initTRPC.context<BreakwaterContext>().create({
  // Never a stack trace, whatever NODE_ENV says (SPEC §3).
  isDev: false,
  errorFormatter({ shape, error }): { code: number; message: string; data: BreakwaterErrorData } {
    const reason = breakwaterErrorOf(error)?.reason
    const data: BreakwaterErrorData = {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      ...(shape.data.path ? { path: shape.data.path } : {}),
      ...(reason ? { reason } : {}),
    }
    let message = shape.message
    if (error.cause instanceof ZodError) {
      data.issues = error.cause.issues.map((issue) => ({
        path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        message: issue.message,
        code: issue.code,
      }))
      message = 'Invalid input.'
    } else if (error.code === 'INTERNAL_SERVER_ERROR') {
      message = 'Internal server error.'
    } else if (!reason && error.code === 'BAD_REQUEST') {
      // tRPC's own parse errors quote the body; say only what was wrong.
      message = 'Malformed request.'
    }
    return { code: shape.code, message, data }
  },
})

export const router = t.router
export const mergeRouters = t.mergeRouters
export const createCallerFactory = t.createCallerFactory

/**
 * Storage failures become `DB_UNAVAILABLE` (503) and values the database
 * refuses become `BAD_REQUEST`: never a 500 for an outage or an odd input.
 */
function mapStorageErrors<T extends { ok: boolean; error?: unknown }>(result: T): T {
  if (!result.ok && !breakwaterErrorOf(result.error)) {
    const cause = (result.error as TRPCError).cause
    if (isUnavailableError(cause)) throw new BreakwaterError('DB_UNAVAILABLE', { cause })
    if (cause instanceof DatabaseError && cause.code === 'DB_INVALID_INPUT') {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input.', cause })
    }
  }
  return result
}

/** A procedure anyone may call. */
export const publicProcedure = t.procedure.use(async ({ next }) => mapStorageErrors(await next()))

/**
 * A procedure that needs a valid access token of a live session; its context
 * gains `session` (user id, session id, claims). No database query: the
 * revocation check reads this instance's in-memory set. One middleware, not
 * two stacked on `publicProcedure`: every layer costs every authenticated call.
 */
export const protectedProcedure = t.procedure.use(async ({ ctx, type, next }) => {
  const session: AuthenticatedSession = await authenticate(
    ctx.runtime,
    ctx.req,
    type === 'mutation',
  )
  ctx.req.breakwaterSession = session
  return mapStorageErrors(await next({ ctx: { session } }))
})
