import type { RevokeResult } from '@breakwater/db'
import { afterTheFact } from '../hooks.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'

/** Why sessions ended, as stored and audited. */
export type EndReason =
  | 'logout'
  | 'logout_all'
  | 'user_revoked'
  | 'password_changed'
  | 'password_reset'
  | 'account_deleted'
  | 'reuse'

/**
 * "These sessions ended": the one place that tells this instance at once (the
 * database broadcast tells the others within a second) and writes the audit
 * trail. Every path that revokes calls it with what the database revoked.
 */
export async function sessionsEnded(
  runtime: Runtime,
  revoked: Pick<RevokeResult, 'sessionIds' | 'revokedAt'>,
  context: {
    userId: string
    reason: EndReason
    client: ClientInfo
    details?: Record<string, unknown>
  },
): Promise<void> {
  for (const sessionId of revoked.sessionIds) runtime.revocations.add(sessionId, revoked.revokedAt)
  const { afterSessionEnd } = runtime.options.hooks
  if (afterSessionEnd && revoked.sessionIds.length > 0) {
    const event = { userId: context.userId, sessionIds: revoked.sessionIds, reason: context.reason }
    afterTheFact(runtime, 'afterSessionEnd', () => afterSessionEnd(event))
  }
  for (const sessionId of revoked.sessionIds) {
    await runtime.audit({
      type: context.reason === 'reuse' ? 'refresh.reused' : 'session.revoked',
      userId: context.userId,
      sessionId,
      ...context.client,
      details: { reason: context.reason, ...context.details },
    })
  }
}
