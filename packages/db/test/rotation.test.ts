import { sql } from 'kysely'
import t from 'tap'
import {
  createSession,
  eraseExpiredSuccessors,
  findSessionById,
  pruneRefreshChains,
  type RotateInput,
  rotateRefreshToken,
  type Session,
} from '../src/index.js'
import { forEachDialect } from '../src/testing/index.js'
import { expectKind, fakeHash, newUser } from './helpers.js'

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
    const result = expectKind(t, await rotate(hash, { newTokenHash: next, now: t1 }), 'rotated')
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

  t.test('a rotation limit per session: counted in the rotating statement', async (t) => {
    const t0 = new Date('2026-11-25T12:00:00.000Z')
    const { session, hash } = await start(t0)
    const limit = { max: 3, windowSeconds: 60 }
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)
    let current = hash
    for (const second of [1, 2, 3]) {
      const next = fakeHash()
      expectKind(
        t,
        await rotate(current, { newTokenHash: next, limit, now: at(second) }),
        'rotated',
      )
      current = next
    }
    const refused = expectKind(t, await rotate(current, { limit, now: at(4) }), 'limited')
    t.equal(refused.sessionId, session.id)
    t.equal(refused.retryAfterSeconds, 57, 'until the first of the three leaves the window')
    t.same((await currentHashes(session.id)).current_token_hash, current, 'nothing changed')
    const later = expectKind(t, await rotate(current, { limit, now: at(62) }), 'rotated')
    t.equal(later.session.id, session.id, 'once the window slid, it rotates again')
    const grace = await rotate(current, { limit, now: at(63) })
    t.equal(grace.kind, 'grace', 'a grace replay is never limited')
  })

  t.test('idle expiry is capped by the absolute expiry', async (t) => {
    const { session, hash } = await start(undefined, { idleTtlSeconds: 60, maxAgeSeconds: 3600 })
    const result = expectKind(t, await rotate(hash), 'rotated')
    t.same(result.session.idleExpiresAt, session.expiresAt)
  })

  t.test('grace window: the previous token gets the same successor back', async (t) => {
    const { session, hash } = await start()
    const now = new Date()
    const sealed = 'the-one-sealed-successor'
    const first = await rotate(hash, { sealedSuccessor: sealed, now })
    t.equal(first.kind, 'rotated')
    for (const offset of [0, 1000, GRACE * 1000]) {
      const again = expectKind(
        t,
        await rotate(hash, { now: new Date(now.getTime() + offset) }),
        'grace',
        `grace at +${offset} ms`,
      )
      t.equal(again.sealedSuccessor, sealed, 'same successor, no fork')
      t.equal(again.session.id, session.id)
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
    await sql`update breakwater.sessions set revoked_at = now(), revoked_reason = 'logout' where id = ${session.id}`.execute(
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
    const kept = expectKind(
      t,
      await rotate(old.hash, {
        newTokenHash: next,
        idleTtlSeconds: 60,
        now: new Date(t0.getTime() + 45_000),
      }),
      'rotated',
    )
    t.same(kept.session.idleExpiresAt, old.session.expiresAt)
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
      t.equal(expectKind(t, g, 'grace').sealedSuccessor, `sealed-${winnerIndex}`)
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
    expectKind(t, r1, 'rotated')
    t.equal(expectKind(t, r2, 'grace').sealedSuccessor, 'tx1-sealed')
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

  const sealedOf = async (sessionId: string) =>
    (
      await db
        .selectFrom('sessions')
        .select('successor_sealed')
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).successor_sealed

  t.test('the sealed successor is erased when the window ends (SPEC §4)', async (t) => {
    const t0 = new Date('2026-11-25T10:00:00.000Z')
    const { session, hash } = await start(t0)
    const other = await start(t0)
    const sealed = `sealed:${fakeHash()}`
    expectKind(t, await rotate(hash, { sealedSuccessor: sealed, now: t0 }), 'rotated')
    // Another session rotated later: still inside its window at every `now` below.
    const t1 = new Date(t0.getTime() + 5_000)
    expectKind(t, await rotate(other.hash, { now: t1 }), 'rotated')
    const erase = (now: Date) => eraseExpiredSuccessors(db, { graceSeconds: GRACE, now })

    t.equal(await erase(new Date(t0.getTime() + GRACE * 1000)), 0, 'kept at the window edge')
    t.equal(await sealedOf(session.id), sealed)
    t.equal(await erase(new Date(t0.getTime() + GRACE * 1000 + 1)), 1, 'erased just after it')
    t.equal(await sealedOf(session.id), null, 'no stored value opens the current token')
    t.not(await sealedOf(other.session.id), null, 'a successor still in its window stays')
    t.equal(await erase(new Date(t0.getTime() + GRACE * 1000 + 1)), 0, 'idempotent')

    // A replay that this instance's clock still places inside the window (another
    // instance erased with its own clock) is reuse, never a grace answer without a
    // successor.
    const replay = await rotate(hash, { now: new Date(t0.getTime() + 1000) })
    t.same(replay, { kind: 'reused', sessionId: session.id, userId: session.userId })
    await t.rejects(eraseExpiredSuccessors(db, { graceSeconds: -1 }), TypeError)
  })

  t.test('a rotation after the window never returns the grace successor', async (t) => {
    const t0 = new Date('2026-11-25T11:00:00.000Z')
    const { hash } = await start(t0)
    expectKind(t, await rotate(hash, { sealedSuccessor: 'kept-secret', now: t0 }), 'rotated')
    const late = await rotate(hash, { now: new Date(t0.getTime() + GRACE * 1000 + 1) })
    t.equal(late.kind, 'reused')
    t.notMatch(JSON.stringify(late), 'kept-secret')
  })

  const allChainRows = async () =>
    Number(
      (
        await db
          .selectFrom('refresh_tokens')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )

  t.test('chains are pruned to the newest rows; current and previous always stay', async (t) => {
    const t0 = new Date('2026-11-25T12:00:00.000Z')
    const { session, hash: first } = await start(t0)
    const chain = [first]
    for (let i = 1; i <= 10; i++) {
      const next = fakeHash()
      expectKind(
        t,
        await rotate(chain.at(-1)!, {
          newTokenHash: next,
          now: new Date(t0.getTime() + i * 60_000),
        }),
        'rotated',
      )
      chain.push(next)
    }
    const bystander = await start(t0)
    const rows = async (sessionId: string) =>
      (
        await db
          .selectFrom('refresh_tokens')
          .select('token_hash')
          .where('session_id', '=', sessionId)
          .execute()
      ).map((r) => r.token_hash)
    t.equal((await rows(session.id)).length, 11)

    const before = await allChainRows()
    const pruned = await pruneRefreshChains(db, { keepPerSession: 3 })
    t.equal(pruned, before - (await allChainRows()), 'returns how many rows it deleted')
    t.ok(pruned >= 8, 'at least this chain lost its 8 oldest rows')
    t.same((await rows(session.id)).sort(), chain.slice(-3).sort(), 'the 3 newest stay')
    t.same(await rows(bystander.session.id), [bystander.hash], 'short chains are untouched')
    t.equal(await pruneRefreshChains(db, { keepPerSession: 3 }), 0, 'idempotent')

    const now = new Date(t0.getTime() + 10 * 60_000 + 1000)
    // The previous token, inside its window: still the grace answer.
    expectKind(t, await rotate(chain[9]!, { now }), 'grace')
    // Pruned: no longer recognised. Still refused (REFRESH_INVALID), but no revocation.
    t.same(await rotate(chain[0]!, { now }), { kind: 'not_found' })
    t.equal((await findSessionById(db, session.id))?.revokedAt, null, 'the trade-off')
    // Kept, and older than the previous token: reuse, as before pruning.
    t.same(await rotate(chain[8]!, { now }), {
      kind: 'reused',
      sessionId: session.id,
      userId: session.userId,
    })

    await t.rejects(pruneRefreshChains(db, { keepPerSession: 1 }), TypeError)
    await t.rejects(pruneRefreshChains(db, { keepPerSession: 2.5 }), TypeError)
  })

  t.test('pruning keeps current and previous even when their clocks ran backwards', async (t) => {
    const t0 = new Date('2026-11-25T13:00:00.000Z')
    const { session, hash: h0 } = await start(t0)
    const hashes = [h0]
    // Issue times out of order (clock skew between instances): the two newest tokens,
    // h3 (previous) and h4 (current), rank as the oldest of the chain.
    for (const offset of [60_000, 120_000, -120_000, -180_000]) {
      const next = fakeHash()
      const now = new Date(t0.getTime() + offset)
      expectKind(t, await rotate(hashes.at(-1)!, { newTokenHash: next, now }), 'rotated')
      hashes.push(next)
    }
    const [, h1, h2, h3, h4] = hashes
    await pruneRefreshChains(db, { keepPerSession: 2 })
    const left = await db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('session_id', '=', session.id)
      .execute()
    t.same(
      left.map((r) => r.token_hash).sort(),
      [h1, h2, h3, h4].sort(),
      'h0 went; the 2 newest by the clock stay, and so do previous and current',
    )
    const soon = new Date(t0.getTime() - 179_000)
    expectKind(t, await rotate(h3!, { now: soon }), 'grace')
    expectKind(t, await rotate(h4!, { now: soon }), 'rotated')
  })
})
