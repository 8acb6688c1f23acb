import {
  createSession,
  createUser,
  DatabaseError,
  findSessionById,
  findSessionByRefreshHash,
  findUserByEmail,
  findUserById,
  isUnavailableError,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
  type Session,
  sessionState,
  type User,
  updatePasswordHash,
} from '@breakwater/db'
import {
  hashRefreshToken,
  isRefreshTokenShape,
  mintRefreshToken,
  openSuccessor,
  sealSuccessor,
  TokenError,
} from '@breakwater/tokens'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { BreakwaterError } from '../errors.js'
import { readAccessToken } from '../guard/authenticate.js'
import { acceptPassword } from '../guard/password-policy.js'
import {
  assertAccountNotLocked,
  clearAccountFailures,
  limitAttemptsFromIp,
  recordAccountFailure,
} from '../guard/rate-limit.js'
import { clearSessionCookies, readRefreshCookie } from '../http/cookies.js'
import { assertCookieMutationAllowed, assertNotCrossSite } from '../http/csrf.js'
import type { Runtime } from '../runtime.js'
import { protectedProcedure, publicProcedure, router } from '../trpc.js'
import {
  changePasswordInput,
  credentials,
  logoutAllInput,
  logoutInput,
  refreshInput,
  registration,
} from './inputs.js'
import { clientInfo, issueTokens, type Transport } from './issue.js'
import { sessionView, userView } from './views.js'

/** Opens a session for a user who just proved who they are, and hands over its tokens. */
async function signIn(
  ctx: { runtime: Runtime; req: FastifyRequest; res: FastifyReply },
  user: User,
  transport: Transport,
  auditType: 'user.registered' | 'login.succeeded',
) {
  const { runtime, req, res } = ctx
  const client = clientInfo(req)
  const refreshToken = mintRefreshToken()
  const session = await createSession(runtime.database.db, {
    userId: user.id,
    refreshTokenHash: hashRefreshToken(refreshToken),
    idleTtlSeconds: runtime.options.refreshIdleTtl,
    maxAgeSeconds: runtime.options.sessionMaxAge,
    userAgent: client.userAgent,
    ip: client.ip,
  })
  runtime.recentSessions.set(session.id, { user, session })
  await runtime.audit({ type: auditType, userId: user.id, sessionId: session.id, ...client })
  return {
    user: userView(user),
    ...(await issueTokens(runtime, req, res, session, refreshToken, transport)),
  }
}

async function endSessions(
  runtime: Runtime,
  sessionIds: readonly string[],
  at: Date,
  client: ReturnType<typeof clientInfo>,
  userId: string,
  reason: string,
) {
  for (const sessionId of sessionIds) {
    runtime.revocations.add(sessionId, at)
    await runtime.audit({
      type: 'session.revoked',
      userId,
      sessionId,
      ...client,
      details: { reason },
    })
  }
}

export const authRouter = router({
  register: publicProcedure.input(registration).mutation(async ({ ctx, input }) => {
    const { runtime, req } = ctx
    if (input.transport === 'cookie') assertNotCrossSite(req, runtime.options)
    const client = clientInfo(req)
    await limitAttemptsFromIp(runtime, client.ip)
    const password = acceptPassword(input.password)
    const passwordHash = await runtime.passwords.hash(password)
    let user: User
    try {
      user = await createUser(runtime.database.db, {
        email: input.email,
        passwordHash,
        displayName: input.displayName ?? null,
      })
    } catch (error) {
      if (error instanceof DatabaseError && error.code === 'EMAIL_TAKEN')
        throw new BreakwaterError('EMAIL_TAKEN')
      throw error
    }
    return signIn(ctx, user, input.transport, 'user.registered')
  }),

  login: publicProcedure.input(credentials).mutation(async ({ ctx, input }) => {
    const { runtime, req } = ctx
    if (input.transport === 'cookie') assertNotCrossSite(req, runtime.options)
    const client = clientInfo(req)
    await limitAttemptsFromIp(runtime, client.ip)
    try {
      await assertAccountNotLocked(runtime, input.email)
    } catch (error) {
      await runtime.audit({ type: 'login.rate_limited', ...client })
      throw error
    }
    const password = input.password.normalize('NFKC')
    const user = await findUserByEmail(runtime.database.db, input.email)
    let genuine = false
    if (user) genuine = await runtime.passwords.verify(user.passwordHash, password)
    else await runtime.passwords.verifyDummy(password)
    if (!user || !genuine) {
      await recordAccountFailure(runtime, input.email)
      await runtime.audit({ type: 'login.failed', userId: user?.id ?? null, ...client })
      throw new BreakwaterError('INVALID_CREDENTIALS')
    }
    await clearAccountFailures(runtime, input.email)
    return signIn(ctx, user, input.transport, 'login.succeeded')
  }),

  refresh: publicProcedure.input(refreshInput).mutation(async ({ ctx, input }) => {
    const { runtime, req, res } = ctx
    const fromBody = input?.refreshToken
    const transport = fromBody !== undefined ? 'bearer' : 'cookie'
    const presented = fromBody ?? readRefreshCookie(req)
    if (!presented) throw new BreakwaterError('REFRESH_MISSING')
    if (transport === 'cookie') assertCookieMutationAllowed(req, runtime.options)
    const fail = (
      reason: 'REFRESH_INVALID' | 'REFRESH_REUSED' | 'SESSION_REVOKED' | 'SESSION_EXPIRED',
    ): never => {
      if (transport === 'cookie') clearSessionCookies(req, res, runtime.options)
      throw new BreakwaterError(reason)
    }
    if (!isRefreshTokenShape(presented)) fail('REFRESH_INVALID')

    const successor = mintRefreshToken()
    const result = await rotateRefreshToken(runtime.database.db, {
      presentedHash: hashRefreshToken(presented),
      newTokenHash: hashRefreshToken(successor),
      sealedSuccessor: sealSuccessor(presented, successor),
      graceSeconds: runtime.options.refreshReuseGrace,
      idleTtlSeconds: runtime.options.refreshIdleTtl,
    })
    const client = clientInfo(req)
    switch (result.kind) {
      case 'rotated':
        await runtime.audit({
          type: 'refresh.rotated',
          userId: result.session.userId,
          sessionId: result.session.id,
          ...client,
        })
        return issueTokens(runtime, req, res, result.session, successor, transport)
      case 'grace': {
        // The same successor the first presentation got: the chain never forks (SPEC §4.1).
        const sameSuccessor = openSuccessor(presented, result.sealedSuccessor)
        if (!sameSuccessor) return fail('REFRESH_INVALID')
        await runtime.audit({
          type: 'refresh.grace',
          userId: result.session.userId,
          sessionId: result.session.id,
          ...client,
        })
        return issueTokens(runtime, req, res, result.session, sameSuccessor, transport)
      }
      case 'reused':
        runtime.revocations.add(result.sessionId)
        await runtime.audit({
          type: 'refresh.reused',
          userId: result.userId,
          sessionId: result.sessionId,
          ...client,
        })
        return fail('REFRESH_REUSED')
      case 'revoked':
        return fail('SESSION_REVOKED')
      case 'expired':
        return fail('SESSION_EXPIRED')
      default:
        return fail('REFRESH_INVALID')
    }
  }),

  logout: publicProcedure.input(logoutInput).mutation(async ({ ctx, input }) => {
    const { runtime, req, res } = ctx
    const access = readAccessToken(req)
    // Anything but a bearer call answers with cookie-clearing headers, which a
    // browser applies even to a forged cross-site form post that carried no
    // cookie at all: so it needs the CSRF proof whether or not a token came.
    const usesCookies = access?.via !== 'bearer' && input?.refreshToken === undefined
    if (usesCookies) assertCookieMutationAllowed(req, runtime.options)
    let sessionId: string | undefined
    let userId: string | undefined
    if (access) {
      try {
        // An expired token still signs its owner out (SPEC §5); a forged one does not.
        const claims = runtime.verifier.verify(access.token, { allowExpired: true })
        sessionId = claims.sid
        userId = claims.sub
      } catch (error) {
        if (error instanceof TokenError) throw new BreakwaterError('TOKEN_INVALID')
        throw error
      }
    } else if (input?.refreshToken !== undefined) {
      if (!isRefreshTokenShape(input.refreshToken)) throw new BreakwaterError('REFRESH_INVALID')
      const session = await findSessionByRefreshHash(
        runtime.database.db,
        hashRefreshToken(input.refreshToken),
      )
      if (!session) throw new BreakwaterError('REFRESH_INVALID')
      sessionId = session.id
      userId = session.userId
    }
    if (sessionId && userId) {
      const revoked = await revokeSession(runtime.database.db, { sessionId, reason: 'logout' })
      await endSessions(
        runtime,
        revoked.sessionIds,
        revoked.revokedAt,
        clientInfo(req),
        userId,
        'logout',
      )
    }
    if (usesCookies) clearSessionCookies(req, res, runtime.options)
    return { ok: true as const }
  }),

  logoutAll: protectedProcedure.input(logoutAllInput).mutation(async ({ ctx, input }) => {
    const { runtime, req, res, session } = ctx
    const revoked = await revokeUserSessions(runtime.database.db, {
      userId: session.userId,
      reason: 'logout_all',
      ...(input?.keepCurrent ? { exceptSessionId: session.sessionId } : {}),
    })
    await endSessions(
      runtime,
      revoked.sessionIds,
      revoked.revokedAt,
      clientInfo(req),
      session.userId,
      'logout_all',
    )
    if (!input?.keepCurrent && session.via === 'cookie')
      clearSessionCookies(req, res, runtime.options)
    return { revoked: revoked.count }
  }),

  me: protectedProcedure.query(async ({ ctx }) => {
    const { runtime, session } = ctx
    const accessTokenExpiresAt = new Date(session.claims.exp * 1000)
    let user: User | undefined
    let stored: Session | undefined
    try {
      ;[user, stored] = await Promise.all([
        findUserById(runtime.database.db, session.userId),
        findSessionById(runtime.database.db, session.sessionId),
      ])
    } catch (error) {
      // Storage down: the access token was verified and its session is not
      // revoked as far as this instance knows, so answer from what it saw last.
      const cached = isUnavailableError(error)
        ? runtime.recentSessions.get(session.sessionId)
        : undefined
      if (!cached) throw error
      return {
        user: userView(cached.user),
        session: sessionView(cached.session, accessTokenExpiresAt),
      }
    }
    if (!user || !stored) throw new BreakwaterError('SESSION_REVOKED')
    const state = sessionState(stored)
    if (state === 'revoked') {
      runtime.revocations.add(stored.id, stored.revokedAt ?? new Date())
      throw new BreakwaterError('SESSION_REVOKED')
    }
    if (state === 'expired') throw new BreakwaterError('SESSION_EXPIRED')
    runtime.recentSessions.set(stored.id, { user, session: stored })
    return { user: userView(user), session: sessionView(stored, accessTokenExpiresAt) }
  }),

  changePassword: protectedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const { runtime, req, session } = ctx
    const client = clientInfo(req)
    const user = await findUserById(runtime.database.db, session.userId)
    if (!user) throw new BreakwaterError('SESSION_REVOKED')
    await assertAccountNotLocked(runtime, user.email)
    if (
      !(await runtime.passwords.verify(user.passwordHash, input.currentPassword.normalize('NFKC')))
    ) {
      await recordAccountFailure(runtime, user.email)
      await runtime.audit({
        type: 'login.failed',
        userId: user.id,
        sessionId: session.sessionId,
        ...client,
        details: { during: 'changePassword' },
      })
      throw new BreakwaterError('INVALID_CREDENTIALS')
    }
    const newPassword = acceptPassword(input.newPassword)
    await updatePasswordHash(runtime.database.db, {
      userId: user.id,
      passwordHash: await runtime.passwords.hash(newPassword),
    })
    const revoked = await revokeUserSessions(runtime.database.db, {
      userId: user.id,
      exceptSessionId: session.sessionId,
      reason: 'password_changed',
    })
    await endSessions(
      runtime,
      revoked.sessionIds,
      revoked.revokedAt,
      client,
      user.id,
      'password_changed',
    )
    await runtime.audit({
      type: 'password.changed',
      userId: user.id,
      sessionId: session.sessionId,
      ...client,
    })
    return { ok: true as const }
  }),
})
