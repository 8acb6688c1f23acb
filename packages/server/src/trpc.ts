import { DatabaseError, isUnavailableError } from '@breakwater/db'
import type { TRPC_ERROR_CODE_NUMBER, TRPCDefaultErrorShape } from '@trpc/server'
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

/**
 * Where the plugin puts the request, reply and runtime in a team's context:
 * a symbol, so nothing a team names collides with it and its own context
 * type stays as it wrote it.
 */
export const BOUND = Symbol.for('@breakwater/server.context')

/** What every Breakwater procedure needs from the context it runs in. */
export interface Bound {
  readonly req: FastifyRequest
  readonly res: FastifyReply
  readonly runtime: Runtime
}

const unbound =
  "Breakwater procedures need the breakwater plugin: pass your router to it (`router`, with your `createContext`), or put the adapter's `req` and `res` in your context on a Fastify instance where the plugin is registered"

/**
 * The request, reply and runtime of a call, from whichever context it runs
 * in: the plugin's own, a team's (the symbol), or a team's that mounts the
 * router itself and carries the Fastify adapter's `req`/`res`.
 */
export function boundOf(ctx: object): Bound {
  const bound = (ctx as { [BOUND]?: Bound })[BOUND]
  if (bound !== undefined) return bound
  const { req, res, runtime } = ctx as Partial<BreakwaterContext>
  const found = runtime ?? req?.server?.breakwater
  if (req !== undefined && res !== undefined && found !== undefined)
    return { req, res, runtime: found }
  throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: unbound })
}

type Formatter<TShape> = (opts: {
  error: TRPCError
  shape: TRPCDefaultErrorShape
  type: string
  path: string | undefined
  input: unknown
  // biome-ignore lint/suspicious/noExplicitAny: the team's context type, as tRPC passes it (absent when context creation failed)
  ctx: any
}) => TShape

/** What {@link breakwaterErrorFormatter} adds to a formatter's shape. */
export type WithBreakwaterReason<TShape> = TShape extends { data: infer D }
  ? Omit<TShape, 'data'> & { data: Omit<D, 'stack'> & { reason?: BreakwaterReason } }
  : TShape

const wrappedFormatters = new WeakSet<object>()

/** Whether an error formatter adds `data.reason` (Breakwater's own, or one wrapped by {@link breakwaterErrorFormatter}). */
export function keepsReason(formatter: unknown): boolean {
  return typeof formatter === 'function' && wrappedFormatters.has(formatter)
}

/**
 * Wraps a team's tRPC error formatter so Breakwater's errors keep their
 * `error.data.reason` (typed on the client) and never carry a stack trace.
 * The team's formatter runs first and keeps every field it adds.
 *
 * @example
 * const t = initTRPC.context<Context>().create({
 *   transformer: superjson,
 *   errorFormatter: breakwaterErrorFormatter(({ shape }) => ({ ...shape, data: { ...shape.data, requestId } })),
 * })
 */
export function breakwaterErrorFormatter<TShape extends { data: object } = TRPCDefaultErrorShape>(
  formatter?: Formatter<TShape>,
): Formatter<WithBreakwaterReason<TShape>> {
  const wrapped: Formatter<WithBreakwaterReason<TShape>> = (opts) => {
    const shape = (formatter ? formatter(opts) : opts.shape) as { message: string; data: object }
    const breakwater = breakwaterErrorOf(opts.error)
    // A 500 never says more than that, whoever formatted it.
    if (breakwater === undefined && opts.error.code !== 'INTERNAL_SERVER_ERROR')
      return shape as never
    const { stack: _stack, ...data } = shape.data as { stack?: unknown }
    return {
      ...shape,
      message: breakwater ? breakwater.message : 'Internal server error.',
      data: { ...data, ...(breakwater ? { reason: breakwater.reason } : {}) },
    } as never
  }
  wrappedFormatters.add(wrapped)
  return wrapped
}

// `code` typed as TRPC_ERROR_CODE_NUMBER: tRPC infers a custom error shape only then, and
// that shape is where a client's `error.data.reason` gets its type.
const ownFormatter = breakwaterErrorFormatter(
  ({
    shape,
    error,
  }): { code: TRPC_ERROR_CODE_NUMBER; message: string; data: BreakwaterErrorData } => {
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
) as Formatter<{ code: TRPC_ERROR_CODE_NUMBER; message: string; data: BreakwaterErrorData }>

const t = initTRPC.context<BreakwaterContext>().create({
  // Never a stack trace, whatever NODE_ENV says (SPEC §3).
  isDev: false,
  errorFormatter: ownFormatter,
  // `sessions.watch` streams stay open for hours: a comment every 15 s keeps proxies
  // from closing them as idle, and a client that hears nothing for 40 s reconnects.
  sse: {
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
  },
})

/** @internal Breakwater's own tRPC instance. */
export const ownInstance = t
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

type Next = (opts: { ctx: object }) => Promise<{ ok: boolean; error?: unknown }>

/** @internal The middleware of a public Breakwater procedure, on any instance. */
export async function publicMiddleware(opts: { ctx: object; next: Next }): Promise<unknown> {
  return mapStorageErrors(await opts.next({ ctx: boundOf(opts.ctx) }))
}

/** Authenticates a call of a protected procedure, on any instance. */
async function authenticateCall(
  ctx: object,
  type: string,
): Promise<Bound & { session: AuthenticatedSession }> {
  const bound = boundOf(ctx)
  const session = await authenticate(bound.runtime, bound.req, type === 'mutation')
  bound.req.breakwaterSession = session
  return { req: bound.req, res: bound.res, runtime: bound.runtime, session }
}

/** @internal The middleware of Breakwater's own protected procedures, on any instance. */
export async function protectedMiddleware(opts: {
  ctx: object
  type: string
  next: Next
}): Promise<unknown> {
  return mapStorageErrors(await opts.next({ ctx: await authenticateCall(opts.ctx, opts.type) }))
}

/**
 * @internal The middleware of a team's protected procedures on its own
 * instance: adds `session` and nothing else, so the team's context keeps its
 * own `req`, `res` or anything it named so.
 */
export async function teamProtectedMiddleware(opts: {
  ctx: object
  type: string
  next: Next
}): Promise<unknown> {
  const { session } = await authenticateCall(opts.ctx, opts.type)
  return mapStorageErrors(await opts.next({ ctx: { session } }))
}

/** A procedure anyone may call. */
export const publicProcedure = t.procedure.use(async ({ ctx, next }) =>
  mapStorageErrors(await next({ ctx: boundOf(ctx) })),
)

/**
 * A procedure that needs a valid access token of a live session; its context
 * gains `session` (user id, session id, claims). One middleware, not two
 * stacked: every layer costs every authenticated call. No database query: the
 * revocation check reads this instance's in-memory set.
 */
export const protectedProcedure = t.procedure.use(async ({ ctx, type, next }) =>
  mapStorageErrors(await next({ ctx: await authenticateCall(ctx, type) })),
)
