import {
  appendAuditEvent,
  createSession,
  createUser,
  findSessionById,
  listAuditEvents,
  revokeSession,
} from '@breakwater/db'
import { openTestDatabase } from '@breakwater/db/testing'
import { hashRefreshToken, mintRefreshToken } from '@breakwater/tokens'
import t from 'tap'
import { runMaintenance } from '../src/maintenance.js'

t.test('housekeeping deletes sessions ended over 30 days ago, and only those', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const user = await createUser(database.db, { email: 'keep@example.com', passwordHash: 'x' })
  const open = (now: Date) =>
    createSession(database.db, {
      userId: user.id,
      refreshTokenHash: hashRefreshToken(mintRefreshToken()),
      idleTtlSeconds: 7 * 86_400,
      maxAgeSeconds: 30 * 86_400,
      now,
    })
  const day = 86_400_000
  const now = new Date()
  const old = await open(new Date(now.getTime() - 40 * day))
  await revokeSession(database.db, {
    sessionId: old.id,
    reason: 'logout',
    now: new Date(now.getTime() - 31 * day),
  })
  const recent = await open(new Date(now.getTime() - 2 * day))
  await revokeSession(database.db, {
    sessionId: recent.id,
    reason: 'logout',
    now: new Date(now.getTime() - day),
  })
  const live = await open(now)
  await appendAuditEvent(database.db, {
    type: 'login.failed',
    details: { age: 'old' },
    occurredAt: new Date(now.getTime() - 91 * day),
  })
  await appendAuditEvent(database.db, {
    type: 'login.failed',
    details: { age: 'recent' },
    occurredAt: new Date(now.getTime() - 89 * day),
  })
  await runMaintenance(database, {
    clock: () => now.getTime(),
    refreshReuseGrace: 10,
    auditRetention: 90 * 86_400,
  })
  t.equal(await findSessionById(database.db, old.id), undefined, 'ended 31 days ago: deleted')
  t.ok(
    await findSessionById(database.db, recent.id),
    'ended yesterday: kept, so its tokens still read as revoked',
  )
  t.ok(await findSessionById(database.db, live.id), 'live: kept')
  const failures = await listAuditEvents(database.db, { type: 'login.failed' })
  t.same(
    failures.map((event) => event.details),
    [{ age: 'recent' }],
    'audit events past AUDIT_RETENTION (90 d) are deleted, younger ones kept',
  )
})
