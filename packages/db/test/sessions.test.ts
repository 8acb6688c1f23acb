import t from 'tap'
import {
  createSession,
  deleteEndedSessions,
  findSessionById,
  findSessionByRefreshHash,
  listLiveSessions,
  loadRecentRevocations,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
  sessionState,
  touchSession,
  USER_AGENT_MAX,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { fakeHash, newUser } from './helpers.js'

const DAY = 86_400

forEachDialect(t, async (t, { db }) => {
  const open = (userId: string, extra: { now?: Date; userAgent?: string; ip?: string } = {}) =>
    createSession(db, {
      userId,
      refreshTokenHash: fakeHash(),
      idleTtlSeconds: 7 * DAY,
      maxAgeSeconds: 30 * DAY,
      ...extra,
    })

  t.test('find by refresh-token hash: current and older tokens of the chain', async (t) => {
    const user = await newUser(db)
    const first = fakeHash()
    const session = await createSession(db, {
      userId: user.id,
      refreshTokenHash: first,
      idleTtlSeconds: 7 * DAY,
      maxAgeSeconds: 30 * DAY,
    })
    t.equal((await findSessionByRefreshHash(db, first))?.id, session.id)
    t.equal(
      await findSessionByRefreshHash(db, fakeHash()),
      undefined,
      'an unknown hash finds nothing',
    )
    t.equal(await findSessionByRefreshHash(db, "' or 1=1 --"), undefined)
    t.equal(
      await findSessionByRefreshHash(db, 'x'.repeat(10_000)),
      undefined,
      'over-long input finds nothing',
    )
  })

  t.test('create, find, expiries', async (t) => {
    const user = await newUser(db)
    const now = new Date('2026-11-25T12:00:00.000Z')
    const session = await open(user.id, { now, userAgent: 'Firefox', ip: '203.0.113.7' })
    t.equal(session.userId, user.id)
    t.same(session.createdAt, now)
    t.same(session.lastUsedAt, now)
    t.same(session.idleExpiresAt, new Date(now.getTime() + 7 * DAY * 1000))
    t.same(session.expiresAt, new Date(now.getTime() + 30 * DAY * 1000))
    t.equal(session.userAgent, 'Firefox')
    t.equal(session.ip, '203.0.113.7')
    t.same(await findSessionById(db, session.id), session)
    t.equal(await findSessionById(db, 'nope'), undefined)
    t.equal(sessionState(session, now), 'live')
    t.equal(sessionState(session, new Date(now.getTime() + 8 * DAY * 1000)), 'expired')

    // Idle TTL longer than the absolute lifetime is capped by it.
    const capped = await createSession(db, {
      userId: user.id,
      refreshTokenHash: fakeHash(),
      idleTtlSeconds: 10 * DAY,
      maxAgeSeconds: DAY,
      now,
    })
    t.same(capped.idleExpiresAt, capped.expiresAt)
  })

  t.test('over-long and hostile user agents and IPs are clipped, not refused', async (t) => {
    const user = await newUser(db)
    const session = await open(user.id, {
      userAgent: `'; drop table sessions; --${'𝄞'.repeat(1000)}\u0000`,
      ip: '1'.repeat(500),
    })
    t.equal(Array.from(session.userAgent ?? '').length, USER_AGENT_MAX)
    t.match(session.userAgent, /^'; drop table sessions; --𝄞/)
    t.equal(session.ip?.length, 64)
  })

  t.test('list live sessions, touch', async (t) => {
    const user = await newUser(db)
    const other = await newUser(db)
    const old = new Date(Date.now() - 40 * DAY * 1000)
    await open(user.id, { now: old }) // expired by now
    const a = await open(user.id)
    const b = await open(user.id)
    await open(other.id)
    const revoked = await open(user.id)
    await revokeSession(db, { sessionId: revoked.id, reason: 'logout' })

    const later = new Date(Date.now() + 5000)
    t.equal(await touchSession(db, { sessionId: a.id, now: later }), true)
    const live = await listLiveSessions(db, user.id)
    t.same(
      live.map((s) => s.id),
      [a.id, b.id],
      'only live sessions, most recently used first',
    )
    t.same(live[0]?.lastUsedAt, later)
    t.equal(
      await touchSession(db, { sessionId: a.id, now: later, minIntervalSeconds: 60 }),
      false,
      'throttled',
    )
    t.equal(await touchSession(db, { sessionId: revoked.id }), false, 'revoked is not touched')
    t.same(await listLiveSessions(db, 'not-a-uuid'), [])
  })

  t.test('revoke one, with ownership check', async (t) => {
    const user = await newUser(db)
    const stranger = await newUser(db)
    const session = await open(user.id)
    const foreign = await revokeSession(db, {
      sessionId: session.id,
      userId: stranger.id,
      reason: 'user_revoked',
    })
    t.equal(foreign.count, 0, "someone else's session is not found")
    const result = await revokeSession(db, {
      sessionId: session.id,
      userId: user.id,
      reason: 'user_revoked',
    })
    t.same(
      { count: result.count, sessionIds: result.sessionIds },
      { count: 1, sessionIds: [session.id] },
    )
    const stored = await findSessionById(db, session.id)
    t.equal(stored?.revokedReason, 'user_revoked')
    t.same(stored?.revokedAt, result.revokedAt)
    t.equal(sessionState(stored!), 'revoked')
    const again = await revokeSession(db, { sessionId: session.id, reason: 'logout' })
    t.equal(again.count, 0, 'revoking twice counts once')
    t.equal((await findSessionById(db, session.id))?.revokedReason, 'user_revoked')
    t.equal((await revokeSession(db, { sessionId: "x' or 1=1 --", reason: 'logout' })).count, 0)
  })

  t.test('revoke all, and all but one', async (t) => {
    const user = await newUser(db)
    const bystander = await newUser(db)
    const keep = await open(user.id)
    const others = [await open(user.id), await open(user.id), await open(user.id)]
    const safe = await open(bystander.id)

    const butOne = await revokeUserSessions(db, {
      userId: user.id,
      exceptSessionId: keep.id,
      reason: 'password_changed',
    })
    t.equal(butOne.count, 3)
    t.same([...butOne.sessionIds].sort(), others.map((s) => s.id).sort())
    t.same(
      (await listLiveSessions(db, user.id)).map((s) => s.id),
      [keep.id],
    )
    const all = await revokeUserSessions(db, { userId: user.id, reason: 'logout_all' })
    t.same(all.sessionIds, [keep.id], 'already-revoked sessions are not counted again')
    t.same(await listLiveSessions(db, user.id), [])
    t.equal(sessionState((await findSessionById(db, safe.id))!), 'live', 'other users untouched')
  })

  t.test('loadRecentRevocations returns revocations since a date', async (t) => {
    const user = await newUser(db)
    const s1 = await open(user.id)
    const s2 = await open(user.id)
    const t0 = new Date(Date.now() - 3_600_000)
    const t1 = new Date(Date.now() - 60_000)
    await revokeSession(db, { sessionId: s1.id, reason: 'logout', now: t0 })
    await revokeSession(db, { sessionId: s2.id, reason: 'reuse', now: t1 })
    const recent = await loadRecentRevocations(db, new Date(Date.now() - 15 * 60_000))
    const mine = recent.filter((e) => e.userId === user.id)
    t.same(mine, [{ sessionId: s2.id, userId: user.id, revokedAt: t1, reason: 'reuse' }])
  })

  t.test('deleting ended sessions deletes their refresh-token chains too', async (t) => {
    const user = await newUser(db)
    const t0 = new Date('2026-01-01T00:00:00.000Z')
    const chainOf = async (sessionId: string) =>
      (
        await db
          .selectFrom('refresh_tokens')
          .select('token_hash')
          .where('session_id', '=', sessionId)
          .execute()
      ).length
    const ended = await open(user.id, { now: t0 })
    const first = fakeHash()
    const rotated = await createSession(db, {
      userId: user.id,
      refreshTokenHash: first,
      idleTtlSeconds: 7 * DAY,
      maxAgeSeconds: 30 * DAY,
      now: t0,
    })
    const result = await rotateRefreshToken(db, {
      presentedHash: first,
      newTokenHash: fakeHash(),
      sealedSuccessor: 's',
      graceSeconds: 10,
      idleTtlSeconds: 7 * DAY,
      now: t0,
    })
    t.equal(result.kind, 'rotated')
    await revokeSession(db, { sessionId: rotated.id, reason: 'logout', now: t0 })
    const live = await open(user.id, { now: new Date(t0.getTime() + 30 * DAY * 1000) })
    t.equal(await chainOf(rotated.id), 2)

    const deleted = await deleteEndedSessions(db, new Date(t0.getTime() + 31 * DAY * 1000))
    t.ok(deleted >= 2, 'both ended sessions deleted')
    t.equal(await findSessionById(db, ended.id), undefined)
    t.equal(await findSessionById(db, rotated.id), undefined)
    t.equal(await chainOf(ended.id), 0, 'expired: chain gone')
    t.equal(await chainOf(rotated.id), 0, 'revoked: chain gone (ON DELETE CASCADE)')
    t.equal(await findSessionByRefreshHash(db, first), undefined)
    t.equal(await chainOf(live.id), 1, 'a live session keeps its chain')
    t.equal((await findSessionById(db, live.id))?.id, live.id)
  })
})
