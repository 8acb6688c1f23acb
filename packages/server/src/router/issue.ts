import type { Session } from '@breakwater/db'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { setSessionCookies } from '../http/cookies.js'
import type { Runtime } from '../runtime.js'
import { refreshExpiry, type SessionView, sessionView, type TokensView } from './views.js'

export type Transport = 'cookie' | 'bearer'

/** Client IP (as Fastify's `trustProxy` decides) and user agent, for sessions and audit. */
export function clientInfo(request: FastifyRequest): { ip: string; userAgent: string | null } {
  const agent = request.headers['user-agent']
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : null }
}

/**
 * Signs an access token for a session and hands both tokens over: as cookies
 * in cookie transport (the body then holds no token), in the body in bearer
 * transport (and no cookie is touched).
 */
export async function issueTokens(
  runtime: Runtime,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  refreshToken: string,
  transport: Transport,
): Promise<{ session: SessionView; tokens?: TokensView }> {
  const access = await runtime.signer.sign({ sub: session.userId, sid: session.id })
  const view = sessionView(session, access.expiresAt)
  const refreshTokenExpiresAt = refreshExpiry(session)
  if (transport === 'cookie') {
    setSessionCookies(
      request,
      reply,
      runtime.options,
      {
        accessToken: access.token,
        refreshToken,
        accessTokenExpiresAt: access.expiresAt,
        refreshTokenExpiresAt,
      },
      Date.now(),
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
