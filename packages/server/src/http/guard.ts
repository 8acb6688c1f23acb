import type { UserView } from '@breakwater/protocol'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { type BreakwaterError, breakwaterErrorOf } from '../errors.js'
import { authenticate, readAccessToken } from '../guard/authenticate.js'
import { userView } from '../router/views.js'
import { currentSession } from '../session/current.js'

/** The user `sessionGuard({ user: true })` puts on the request: never a password hash. */
export interface BreakwaterUser extends UserView {
  readonly fields: Readonly<Record<string, unknown>>
}

export interface SessionGuardOptions {
  /**
   * Let requests with no access token through with `request.breakwaterSession`
   * left `null` (a page that shows more to a signed-in user). A token that is
   * present but invalid, expired or revoked is still refused, so the client
   * knows to refresh or sign out.
   */
  readonly optional?: boolean
  /**
   * Also fill `request.breakwaterUser` with the session's user (what `auth.me`
   * answers with): from this instance's memory after the first call of each
   * access token, so no database query on the usual path.
   */
  readonly user?: boolean
}

// Methods that change nothing (RFC 9110 §9.2.1) need no CSRF proof.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The JSON body of a refused request: the shape of a tRPC error, so one client handles both. */
function refuse(reply: FastifyReply, error: BreakwaterError): FastifyReply {
  if (error.retryAfter !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))))
  const httpStatus = getHTTPStatusCodeFromError(error)
  return reply.code(httpStatus).send({
    error: {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: { code: error.code, httpStatus, reason: error.reason },
    },
  })
}

/**
 * A Fastify `preHandler` that guards a plain route (a file download, a
 * webhook, a server-rendered page) with the same verdicts as
 * `protectedProcedure`: `TOKEN_MISSING`, `TOKEN_INVALID`, `TOKEN_EXPIRED`,
 * `SESSION_REVOKED` answer 401 with `error.data.reason`; a cookie-authenticated
 * request with an unsafe method needs the CSRF proof (`CSRF_REJECTED`, 403).
 * On success `request.breakwaterSession` holds the verified session. No
 * database query: the revocation check reads this instance's in-memory set.
 *
 * @example
 * app.get('/files/:id', { preHandler: sessionGuard() }, async (request) =>
 *   sendFile(request.breakwaterSession!.userId, request.params))
 */
export function sessionGuard(options: SessionGuardOptions = {}): preHandlerAsyncHookHandler {
  const optional = options.optional === true
  const withUser = options.user === true
  return async function breakwaterSessionGuard(request: FastifyRequest, reply: FastifyReply) {
    const runtime = request.server.breakwater
    if (runtime === undefined) {
      throw new TypeError(
        '@breakwater/server: sessionGuard() needs the breakwater plugin registered on this Fastify instance (or a parent)',
      )
    }
    if (optional && readAccessToken(request, runtime.options) === undefined) return
    try {
      const session = await authenticate(runtime, request, !SAFE_METHODS.has(request.method))
      request.breakwaterSession = session
      if (withUser) {
        const { user } = await currentSession(runtime, session)
        request.breakwaterUser = { ...userView(user), fields: user.fields }
      }
    } catch (error) {
      const refused = breakwaterErrorOf(error)
      if (!refused) throw error
      return refuse(reply, refused)
    }
  }
}
