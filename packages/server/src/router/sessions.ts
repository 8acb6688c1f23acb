import { listLiveSessions } from '@breakwater/db'
import { clearSessionCookies } from '../http/cookies.js'
import { revokeOwnSession } from '../session/sign-out.js'
import { watchSession } from '../session/watch.js'
import type { Builders } from './builders.js'
import { sessionIdInput } from './inputs.js'
import { clientInfo } from './issue.js'
import { sessionListItem } from './views.js'

/** The `sessions.*` procedures on the given builders. */
export function sessionsProcedures({ protectedProcedure }: Builders) {
  return {
    list: protectedProcedure.query(async ({ ctx }) => {
      const sessions = await listLiveSessions(
        ctx.runtime.database.db,
        ctx.session.userId,
        ctx.runtime.now(),
      )
      return sessions.map((session) => sessionListItem(session, ctx.session.sessionId))
    }),

    revoke: protectedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
      const { runtime, req, res, session } = ctx
      await revokeOwnSession(runtime, session, input.sessionId, clientInfo(req))
      if (input.sessionId === session.sessionId && session.via === 'cookie')
        clearSessionCookies(req, res, runtime.options)
      return { ok: true as const }
    }),

    /**
     * A subscription (Server-Sent Events, `httpSubscriptionLink`) that says when
     * this session ends, on any instance: `{type: 'active'}`, then `{type: 'ended', reason}`.
     */
    watch: protectedProcedure.subscription(({ ctx, signal }) =>
      watchSession(ctx.runtime, ctx.session, signal),
    ),
  }
}
