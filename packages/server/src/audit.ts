import {
  type AuditEvent,
  appendAuditEvent,
  type Database,
  type NewAuditEvent,
} from '@breakwater/db'
import type { FastifyBaseLogger } from 'fastify'

export type { AuditEvent, NewAuditEvent }

/**
 * Stores an audit event and hands it to the `onAuditEvent` hook. An audit
 * write never fails the request that caused it: with the database down the
 * event goes to the hook alone.
 */
export async function recordAudit(
  database: Database,
  hook: ((event: AuditEvent) => void | Promise<void>) | undefined,
  event: NewAuditEvent,
  log: FastifyBaseLogger,
): Promise<void> {
  let stored: AuditEvent
  try {
    stored = await appendAuditEvent(database.db, event)
  } catch (error) {
    log.warn({ err: error, audit: event.type }, 'audit event not stored; handed to the hook only')
    stored = {
      id: '',
      occurredAt: event.occurredAt ?? new Date(),
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      ip: event.ip ?? null,
      userAgent: event.userAgent ?? null,
      details: event.details ?? null,
    }
  }
  // A failing sink is the sink's problem, not the caller's: report it, go on.
  // An async one is not awaited: a slow sink must not slow sign-ins.
  const failed = (error: unknown) =>
    log.error({ err: error, audit: event.type }, 'onAuditEvent sink failed')
  try {
    const pending = hook?.(stored)
    if (pending instanceof Promise) pending.catch(failed)
  } catch (error) {
    failed(error)
  }
}
