import { listLiveSessions, revokeSession } from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { clearSessionCookies } from '../http/cookies.js'
import { protectedProcedure, router } from '../trpc.js'
import { sessionIdInput } from './inputs.js'
import { clientInfo } from './issue.js'
import { sessionListItem } from './views.js'

export const sessionsRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => {
    const sessions = await listLiveSessions(ctx.runtime.database.db, ctx.session.userId)
    return sessions.map((session) => sessionListItem(session, ctx.session.sessionId))
  }),

  revoke: protectedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
    const { runtime, req, res, session } = ctx
    // Scoped to the caller's own sessions: another user's id gets the same
    // answer as an id that does not exist, so ids cannot be probed.
    const revoked = await revokeSession(runtime.database.db, {
      sessionId: input.sessionId,
      userId: session.userId,
      reason: 'user_revoked',
    })
    if (revoked.count === 0) throw new BreakwaterError('SESSION_NOT_FOUND')
    runtime.revocations.add(input.sessionId, revoked.revokedAt)
    await runtime.audit({
      type: 'session.revoked',
      userId: session.userId,
      sessionId: input.sessionId,
      ...clientInfo(req),
      details: { reason: 'user_revoked', by: session.sessionId },
    })
    if (input.sessionId === session.sessionId && session.via === 'cookie')
      clearSessionCookies(req, res, runtime.options)
    return { ok: true as const }
  }),
})
