import { sql } from 'kysely'
import t from 'tap'
import {
  createSession,
  findSessionById,
  type RotateInput,
  rotateRefreshToken,
  type Session,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { fakeHash, newUser } from './helpers.js'

const GRACE = 10
const IDLE = 7 * 86_400
const MAX_AGE = 30 * 86_400

forEachDialect(t, async (t, database) => {
  const { db } = database

  async function start(
    now?: Date,
    ttl = { idleTtlSeconds: IDLE, maxAgeSeconds: MAX_AGE },
  ): Promise<{ session: Session; hash: string }> {
    const user = await newUser(db)
    const hash = fakeHash()
    const session = await createSession(db, {
      userId: user.id,
      refreshTokenHash: hash,
      ...ttl,
      ...(now ? { now } : {}),
    })
    return { session, hash }
  }

  const rotate = (presentedHash: string, extra: Partial<RotateInput> = {}) =>
    rotateRefreshToken(db, {
      presentedHash,
      newTokenHash: fakeHash(),
      sealedSuccessor: `sealed:${fakeHash()}`,
      graceSeconds: GRACE,
      idleTtlSeconds: IDLE,
      ...extra,
    })

  const currentHashes = async (sessionId: string) =>
    await db
      .selectFrom('sessions')
      .select(['current_token_hash', 'previous_token_hash'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow()

  t.test('rotate: current token moves on, idle expiry extends', async (t) => {
    const t0 = new Date('2026-11-25T10:00:00.000Z')
    const { session, hash } = await start(t0)
    const t1 = new Date(t0.getTime() + 3_600_000)
    const next = fakeHash()
    const result = await rotate(hash, { newTokenHash: next, now: t1 })
    t.equal(result.kind, 'rotated')
    if (result.kind !== 'rotated') return
    t.equal(result.session.id, session.id)
    t.same(result.session.idleExpiresAt, new Date(t1.getTime() + IDLE * 1000))
    t.same(result.session.lastUsedAt, t1)
    t.same(result.session.expiresAt, session.expiresAt, 'absolute expiry never moves')
    t.same(await currentHashes(session.id), {
      current_token_hash: next,
      previous_token_hash: hash,
    })
    const nextAgain = await rotate(next, { now: new Date(t1.getTime() + 1000) })
    t.equal(nextAgain.kind, 'rotated', 'the successor rotates in turn')
  })

  t.test('idle expiry is capped by the absolute expiry', async (t) => {
    const { session, hash } = await start(undefined, { idleTtlSeconds: 60, maxAgeSeconds: 3600 })
    const result = await rotate(hash)
    t.equal(result.kind, 'rotated')
    if (result.kind === 'rotated') t.same(result.session.idleExpiresAt, session.expiresAt)
  })

  t.test('grace window: the previous token gets the same successor back', async (t) => {
    const { session, hash } = await start()
    const now = new Date()
    const sealed = 'the-one-sealed-successor'
    const first = await rotate(hash, { sealedSuccessor: sealed, now })
    t.equal(first.kind, 'rotated')
    for (const offset of [0, 1000, GRACE * 1000]) {
      const again = await rotate(hash, { now: new Date(now.getTime() + offset) })
      t.equal(again.kind, 'grace', `grace at +${offset} ms`)
      if (again.kind === 'grace') {
        t.equal(again.sealedSuccessor, sealed, 'same successor, no fork')
        t.equal(again.session.id, session.id)
      }
    }
    const state = await currentHashes(session.id)
    t.equal(state.previous_token_hash, hash, 'grace answers do not rotate')
  })

  t.test('previous token after the window is reuse: session revoked', async (t) => {
    const { session, hash } = await start()
    const now = new Date()
    const first = await rotate(hash, { now })
    t.equal(first.kind, 'rotated')
    const events: string[] = []
    const stop = database.revocations.subscribe((e) => events.push(e.sessionId))
    const late = await rotate(hash, { now: new Date(now.getTime() + (GRACE + 1) * 1000) })
    t.same(late, { kind: 'reused', sessionId: session.id, userId: session.userId })
    const stored = await findSessionById(db, session.id)
    t.equal(stored?.revokedReason, 'reuse')
    // The newest token dies with the session.
    const { current_token_hash } = await currentHashes(session.id)
    const newest = await rotate(current_token_hash)
    t.equal(newest.kind, 'revoked')
    const deadline = Date.now() + 1000
    while (!events.includes(session.id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
    }
    t.ok(events.includes(session.id), 'the reuse revocation is broadcast')
    stop()
  })

  t.test('an older token of the chain is reuse at any time', async (t) => {
    const { session, hash: h0 } = await start()
    const h1 = fakeHash()
    const h2 = fakeHash()
    t.equal((await rotate(h0, { newTokenHash: h1 })).kind, 'rotated')
    t.equal((await rotate(h1, { newTokenHash: h2 })).kind, 'rotated')
    // h0 is two generations old: reuse even though it is within seconds.
    t.same(await rotate(h0), { kind: 'reused', sessionId: session.id, userId: session.userId })
    t.equal((await rotate(h2)).kind, 'revoked', 'the live token is revoked too')
    t.equal((await rotate(h1)).kind, 'revoked', 'revoked beats reuse once ended')
  })

  t.test('unknown token is not_found; revoked session is revoked', async (t) => {
    t.same(await rotate(fakeHash()), { kind: 'not_found' })
    t.same(await rotate("' or 1=1; --"), { kind: 'not_found' })
    const { session, hash } = await start()
    await sql`update sessions set revoked_at = now(), revoked_reason = 'logout' where id = ${session.id}`.execute(
      db,
    )
    t.same(await rotate(hash), { kind: 'revoked', sessionId: session.id, userId: session.userId })
  })

  t.test('expired sessions cannot rotate (idle and absolute)', async (t) => {
    const idle = await start()
    const afterIdle = new Date(idle.session.idleExpiresAt.getTime() + 1)
    t.same(await rotate(idle.hash, { now: afterIdle }), {
      kind: 'expired',
      sessionId: idle.session.id,
      userId: idle.session.userId,
    })
    t.same(
      await rotate(idle.hash, { now: idle.session.idleExpiresAt }),
      { kind: 'expired', sessionId: idle.session.id, userId: idle.session.userId },
      'expiry instant itself is expired',
    )

    const t0 = new Date()
    const old = await start(t0, { idleTtlSeconds: 50, maxAgeSeconds: 100 })
    // Keep it idle-fresh by rotating before the idle end, then pass the absolute limit.
    const next = fakeHash()
    const kept = await rotate(old.hash, {
      newTokenHash: next,
      idleTtlSeconds: 60,
      now: new Date(t0.getTime() + 45_000),
    })
    t.equal(kept.kind, 'rotated')
    if (kept.kind === 'rotated') t.same(kept.session.idleExpiresAt, old.session.expiresAt)
    const afterMax = new Date(old.session.expiresAt.getTime() + 1)
    t.equal((await rotate(next, { now: afterMax })).kind, 'expired')
    t.equal(
      (await findSessionById(db, old.session.id))?.revokedAt,
      null,
      'expiry is not revocation',
    )
  })

  t.test('50 concurrent rotations of one token: one winner, no error, no revocation', async (t) => {
    const { session, hash } = await start()
    const now = new Date()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rotate(hash, {
          newTokenHash: `next-${i}-${fakeHash()}`,
          sealedSuccessor: `sealed-${i}`,
          now,
        }),
      ),
    )
    const winners = results.filter((r) => r.kind === 'rotated')
    t.equal(winners.length, 1, 'exactly one rotation wins')
    const graces = results.filter((r) => r.kind === 'grace')
    t.equal(graces.length, 49, 'every other call gets the grace answer')
    const winnerIndex = results.findIndex((r) => r.kind === 'rotated')
    for (const g of graces) {
      if (g.kind === 'grace') t.equal(g.sealedSuccessor, `sealed-${winnerIndex}`)
    }
    const stored = await findSessionById(db, session.id)
    t.equal(stored?.revokedAt, null, 'not revoked')
    const { count } = await db
      .selectFrom('refresh_tokens')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('session_id', '=', session.id)
      .executeTakeFirstOrThrow()
    t.equal(Number(count), 2, 'the chain grew by exactly one token')
    const { current_token_hash } = await currentHashes(session.id)
    t.ok(
      current_token_hash.startsWith(`next-${winnerIndex}-`),
      'one live current token: the winner',
    )
  })

  t.test('two interleaved transactions cannot both win', async (t) => {
    const { hash } = await start()
    let releaseFirst!: () => void
    const firstHolds = new Promise<void>((resolve) => {
      releaseFirst = resolve
    })
    let firstRotated!: () => void
    const firstDone = new Promise<void>((resolve) => {
      firstRotated = resolve
    })
    const tx1 = db.transaction().execute(async (trx) => {
      const r = await rotateRefreshToken(trx, {
        presentedHash: hash,
        newTokenHash: 'tx1-next',
        sealedSuccessor: 'tx1-sealed',
        graceSeconds: GRACE,
        idleTtlSeconds: IDLE,
      })
      firstRotated()
      await firstHolds // keep the row lock while the second transaction tries
      return r
    })
    await firstDone
    const tx2 = db.transaction().execute((trx) =>
      rotateRefreshToken(trx, {
        presentedHash: hash,
        newTokenHash: 'tx2-next',
        sealedSuccessor: 'tx2-sealed',
        graceSeconds: GRACE,
        idleTtlSeconds: IDLE,
      }),
    )
    await new Promise((r) => setTimeout(r, 100))
    releaseFirst()
    const [r1, r2] = await Promise.all([tx1, tx2])
    t.equal(r1.kind, 'rotated')
    t.equal(r2.kind, 'grace')
    if (r2.kind === 'grace') t.equal(r2.sealedSuccessor, 'tx1-sealed')
  })

  t.test('a rolled-back rotation leaves the old token current', async (t) => {
    const { hash } = await start()
    await db
      .transaction()
      .execute(async (trx) => {
        t.equal(
          (
            await rotateRefreshToken(trx, {
              presentedHash: hash,
              newTokenHash: 'rolled-back',
              sealedSuccessor: 's',
              graceSeconds: GRACE,
              idleTtlSeconds: IDLE,
            })
          ).kind,
          'rotated',
        )
        throw new Error('abort')
      })
      .catch(() => {})
    t.equal((await rotate(hash)).kind, 'rotated')
    t.same(await rotate('rolled-back'), { kind: 'not_found' })
  })
})
