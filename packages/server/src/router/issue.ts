import type { Transport } from '@breakwater/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { setSessionCookies } from '../http/cookies.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from '../session/client.js'
import { type IssuedSession, refreshExpiry } from '../session/tokens.js'
import { type SessionView, sessionView, type TokensView } from './views.js'

export type { Transport }

/** Client IP (as Fastify's `trustProxy` decides) and user agent, for sessions and audit. */
export function clientInfo(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent']
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : null }
}

/**
 * Hands an issued session over: as cookies in cookie transport (the body then
 * holds no token), in the body in bearer transport (and no cookie is touched).
 */
export function deliver(
  runtime: Runtime,
  request: FastifyRequest,
  reply: FastifyReply,
  issued: IssuedSession,
  transport: Transport,
): { session: SessionView; tokens?: TokensView } {
  const { session, access, refreshToken } = issued
  const view = sessionView(session, access.expiresAt)
  if (transport === 'cookie') {
    setSessionCookies(
      request,
      reply,
      runtime.options,
      {
        accessToken: access.token,
        refreshToken,
        accessTokenExpiresAt: access.expiresAt,
        refreshTokenExpiresAt: refreshExpiry(session),
      },
      runtime.clock(),
    )
    return { session: view }
  }
  return {
    session: view,
    tokens: {
      accessToken: access.token,
      refreshToken,
      accessTokenExpiresAt: view.accessTokenExpiresAt,
      refreshTokenExpiresAt: view.refreshTokenExpiresAt,
    },
  }
}
