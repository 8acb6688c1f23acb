import t from 'tap'
import {
  activateSigningKey,
  appendAuditEvent,
  DatabaseError,
  deleteExpiredSigningKeys,
  hitRateLimit,
  insertSigningKey,
  listAuditEvents,
  listSigningKeys,
  peekRateLimit,
  pruneAuditEvents,
  pruneRateLimits,
  QueryFailed,
  refundRateLimit,
  resetRateLimit,
  retireSigningKey,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { newUser } from './helpers.js'

const jwk = (kid: string) => ({
  kty: 'OKP',
  crv: 'Ed25519',
  kid,
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'; drop table signing_keys; --",
})

forEachDialect(t, async (t, { db }) => {
  t.test('signing keys: store, load, activate with overlap, retire, prune', async (t) => {
    const now = new Date('2026-11-25T00:00:00.000Z')
    const k1 = await insertSigningKey(db, {
      kid: 'k1',
      alg: 'EdDSA',
      publicJwk: jwk('k1'),
      sealedPrivateKey: 'sealed:k1',
      state: 'active',
      now,
    })
    t.equal(k1.state, 'active')
    t.same(k1.publicJwk, jwk('k1'), 'JSON round-trips as an object')
    t.same(k1.activatedAt, now)
    const k2 = await insertSigningKey(db, {
      kid: 'k2',
      alg: 'EdDSA',
      publicJwk: jwk('k2'),
      sealedPrivateKey: 'sealed:k2',
      now,
    })
    t.equal(k2.state, 'pending')

    const second = await insertSigningKey(db, {
      kid: 'k3',
      alg: 'EdDSA',
      publicJwk: jwk('k3'),
      sealedPrivateKey: 'sealed:k3',
      state: 'active',
    }).catch((e: unknown) => e)
    // By the database's one-active-key index, not by any other failure on the way.
    t.type(second, QueryFailed, 'a second active key is refused')
    t.match(second, {
      code: 'DB_QUERY_FAILED',
      sqlState: '23505',
      constraint: 'signing_keys_one_active_key',
    })
    t.same(
      (await listSigningKeys(db, { states: ['active'] })).map((k) => k.kid),
      ['k1'],
      'the first active key is still the only one',
    )

    const until = new Date(now.getTime() + 3_600_000)
    const activated = await activateSigningKey(db, {
      kid: 'k2',
      previousPublishUntil: until,
      now,
    })
    t.equal(activated?.state, 'active')
    const keys = await listSigningKeys(db)
    t.same(
      keys.map((k) => [k.kid, k.state]),
      [
        ['k1', 'retired'],
        ['k2', 'active'],
      ],
    )
    t.same(keys[0]?.publishUntil, until)
    t.same(
      (await listSigningKeys(db, { states: ['active'] })).map((k) => k.kid),
      ['k2'],
    )
    t.equal(
      await activateSigningKey(db, { kid: 'missing', previousPublishUntil: until }),
      undefined,
      'unknown kid: nothing changes',
    )
    t.same(
      (await listSigningKeys(db, { states: ['active'] })).map((k) => k.kid),
      ['k2'],
      'the active key survived the failed activation',
    )
    t.same(await deleteExpiredSigningKeys(db, now), [])
    t.same(await deleteExpiredSigningKeys(db, new Date(until.getTime() + 1)), ['k1'])
    t.equal(await retireSigningKey(db, { kid: 'k2', publishUntil: until }), true)
    t.same(await listSigningKeys(db, { states: ['active'] }), [])
  })

  t.test('audit events: append and list', async (t) => {
    const user = await newUser(db)
    const at = new Date('2026-11-25T01:00:00.000Z')
    await appendAuditEvent(db, {
      type: 'login.failed',
      userId: user.id,
      ip: '198.51.100.1',
      occurredAt: at,
    })
    const ok = await appendAuditEvent(db, {
      type: 'login.succeeded',
      userId: user.id,
      sessionId: 'not-a-uuid',
      userAgent: `Robert'); DROP TABLE auth_events;--`,
      details: { method: 'password', note: 'it\'s "quoted"' },
      occurredAt: new Date(at.getTime() + 1000),
    })
    t.equal(ok.sessionId, null, 'a malformed id is recorded as absent, not an error')
    const events = await listAuditEvents(db, { userId: user.id })
    t.same(
      events.map((e) => e.type),
      ['login.succeeded', 'login.failed'],
    )
    t.same(events[0]?.details, { method: 'password', note: 'it\'s "quoted"' })
    t.equal(events[0]?.userAgent, `Robert'); DROP TABLE auth_events;--`)
    t.same(
      (await listAuditEvents(db, { userId: user.id, type: 'login.failed' })).map((e) => e.ip),
      ['198.51.100.1'],
    )
    t.same(await listAuditEvents(db, { userId: 'bad' }), [])
    const tooLong = await appendAuditEvent(db, { type: 'x'.repeat(65) }).catch((e) => e)
    t.type(tooLong, DatabaseError)
    t.equal((tooLong as DatabaseError).code, 'DB_INVALID_INPUT')
  })

  t.test('audit events: pruned past the retention (SPEC §4 AUDIT_RETENTION)', async (t) => {
    const user = await newUser(db)
    const now = new Date('2026-12-01T00:00:00.000Z')
    const day = 86_400_000
    const retention = 90 * day
    for (const age of [200 * day, 91 * day, retention, 89 * day, 0]) {
      await appendAuditEvent(db, {
        type: 'login.failed',
        userId: user.id,
        occurredAt: new Date(now.getTime() - age),
      })
    }
    const before = new Date(now.getTime() - retention)
    const mine = async () =>
      (await listAuditEvents(db, { userId: user.id })).map(
        (e) => now.getTime() - e.occurredAt.getTime(),
      )
    t.ok((await pruneAuditEvents(db, { before })) >= 2, 'the two older events went')
    t.same(await mine(), [0, 89 * day, retention], 'an event exactly at the cut-off stays')
    t.equal(await pruneAuditEvents(db, { before }), 0, 'idempotent')
    await t.rejects(pruneAuditEvents(db, { before: new Date(Number.NaN) }), TypeError)
  })

  t.test('rate limit: 5 failures per account per 15 min', async (t) => {
    const key = `login:account:${crypto.randomUUID()}`
    const limit = { key, limit: 5, windowSeconds: 900 }
    // A fixed instant at the start of a window, so the arithmetic is exact.
    const start = new Date(Math.ceil(Date.now() / 900_000) * 900_000)
    for (let i = 0; i < 5; i++) {
      t.equal((await peekRateLimit(db, { ...limit, now: start })).allowed, true)
      t.equal((await hitRateLimit(db, { ...limit, now: start })).allowed, true, `failure ${i + 1}`)
    }
    const blocked = await peekRateLimit(db, { ...limit, now: start })
    t.equal(blocked.allowed, false)
    t.equal(blocked.count, 5)
    // Next window starts in 900 s; then the 5 old failures weigh 5 × (1 − f) and
    // 5 (1 − f) + 1 ≤ 5 needs f ≥ 0.2: 180 s more.
    t.equal(blocked.retryAfterSeconds, 900 + 180)
    const denied = await hitRateLimit(db, { ...limit, now: start })
    t.same(denied, blocked, 'a denied hit is not counted')
    t.equal(
      (await peekRateLimit(db, { ...limit, now: new Date(start.getTime() + 1_080_000) })).allowed,
      true,
      'allowed again once the window has slid far enough',
    )
    await resetRateLimit(db, key)
    t.equal((await peekRateLimit(db, { ...limit, now: start })).count, 0, 'reset after success')
  })

  t.test('rate limit: 30 per IP per minute, atomic under concurrency', async (t) => {
    const key = `login:ip:'; drop table rate_limits; --${crypto.randomUUID()}`
    const now = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 30_000)
    const verdicts = await Promise.all(
      Array.from({ length: 50 }, () =>
        hitRateLimit(db, { key, limit: 30, windowSeconds: 60, now }),
      ),
    )
    t.equal(verdicts.filter((v) => v.allowed).length, 30, 'exactly the limit is let through')
    const denied = verdicts.find((v) => !v.allowed)
    t.ok(denied && denied.retryAfterSeconds >= 1 && denied.retryAfterSeconds <= 90)
    t.equal(await pruneRateLimits(db, now), 0)
    t.equal((await pruneRateLimits(db, new Date(now.getTime() + 180_000))) >= 1, true)
    await t.rejects(hitRateLimit(db, { key, limit: 0, windowSeconds: 60 }), TypeError)
  })

  t.test('rate limit: counted before the check, atomically, with a refund', async (t) => {
    const key = `auth:account:${crypto.randomUUID()}`
    const now = new Date(Math.ceil(Date.now() / 900_000) * 900_000 + 60_000)
    const limit = { key, limit: 5, windowSeconds: 900, now }
    const verdicts = await Promise.all(Array.from({ length: 40 }, () => hitRateLimit(db, limit)))
    t.equal(verdicts.filter((v) => v.allowed).length, 5, 'a burst of 40 checks exactly 5')
    t.equal((await peekRateLimit(db, limit)).count, 5, 'denied hits were not counted')

    t.equal(await refundRateLimit(db, { key, windowSeconds: 900, now }), true)
    t.equal((await peekRateLimit(db, limit)).count, 4)
    const after = await Promise.all(Array.from({ length: 10 }, () => hitRateLimit(db, limit)))
    t.equal(after.filter((v) => v.allowed).length, 1, 'the refund lets exactly one more in')

    // Concurrent refunds lose no update and never go below zero.
    const refunds = await Promise.all(
      Array.from({ length: 8 }, () => refundRateLimit(db, { key, windowSeconds: 900, now })),
    )
    t.equal(refunds.filter(Boolean).length, 5, 'five hits to take back, five taken')
    t.equal((await peekRateLimit(db, limit)).count, 0, 'not below zero')
    t.equal(await refundRateLimit(db, { key: `absent:${key}`, windowSeconds: 900, now }), false)

    // A hit counted just before a window boundary is refunded from that window.
    const edge = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 59_000)
    const edgeKey = `auth:ip:${crypto.randomUUID()}`
    t.equal(
      (await hitRateLimit(db, { key: edgeKey, limit: 1, windowSeconds: 60, now: edge })).allowed,
      true,
    )
    const next = new Date(edge.getTime() + 2000)
    t.equal(await refundRateLimit(db, { key: edgeKey, windowSeconds: 60, now: next }), true)
    t.equal(
      (await peekRateLimit(db, { key: edgeKey, limit: 1, windowSeconds: 60, now: next })).count,
      0,
    )
    await t.rejects(refundRateLimit(db, { key, windowSeconds: 0 }), TypeError)
  })
})
