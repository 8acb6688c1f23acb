import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import { type AuthResult, Client, manualClock, registerBearer, startServer } from './helpers.js'

t.test('rotation semantics of SPEC §4 over HTTP', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const server = await startServer(database, { refreshReuseGrace: '2s', clock: clock.read })
    t.teardown(server.close)

    await t.test(
      'a previous token after the grace window is theft: the whole session dies',
      async (t) => {
        const { client, tokens } = await registerBearer(server.url)
        const rotated = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        const live = rotated.data.tokens!
        client.bearer = live.accessToken
        t.equal((await client.query('auth.me')).status, 200)
        clock.advance(2.3)
        const replay = await new Client(server.url).mutation('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        t.equal(replay.status, 401)
        t.equal(replay.reason, 'REFRESH_REUSED')
        t.equal(
          (await client.query('auth.me')).reason,
          'SESSION_REVOKED',
          'its newest access token is dead too',
        )
        const newest = await new Client(server.url).mutation('auth.refresh', {
          refreshToken: live.refreshToken,
        })
        t.equal(newest.reason, 'SESSION_REVOKED', 'and its newest refresh token')
      },
    )

    await t.test('an older token of the chain is theft at any time', async (t) => {
      const { client, tokens } = await registerBearer(server.url)
      const second = (
        await client.mutation<AuthResult>('auth.refresh', { refreshToken: tokens.refreshToken })
      ).data.tokens!
      const third = (
        await client.mutation<AuthResult>('auth.refresh', { refreshToken: second.refreshToken })
      ).data.tokens!
      t.ok(third.refreshToken)
      const replay = await client.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
      t.equal(replay.reason, 'REFRESH_REUSED', 'two rotations back, inside the window')
      t.equal(
        (await client.mutation('auth.refresh', { refreshToken: third.refreshToken })).reason,
        'SESSION_REVOKED',
      )
    })

    await t.test(
      '50 concurrent refreshes of one token: no error, one chain, one live session',
      async (t) => {
        const { client, tokens, email } = await registerBearer(server.url)
        const replies = await Promise.all(
          Array.from({ length: 50 }, () =>
            new Client(server.url).mutation<AuthResult>('auth.refresh', {
              refreshToken: tokens.refreshToken,
            }),
          ),
        )
        const statuses = new Set(replies.map((r) => r.status))
        t.same([...statuses], [200], 'every one succeeded')
        const successors = new Set(replies.map((r) => r.data.tokens!.refreshToken))
        t.equal(successors.size, 1, 'all got the same successor: the chain never forked')
        const [successor] = [...successors] as [string]
        const next = await client.mutation<AuthResult>('auth.refresh', { refreshToken: successor })
        t.equal(next.status, 200, 'the one successor is live')
        client.bearer = next.data.tokens!.accessToken
        const sessions = await client.query<Array<{ id: string }>>('sessions.list')
        t.equal(sessions.data.length, 1, `one live session for ${email}`)
      },
    )

    await t.test(
      'a lost response: the client retries with the old token and carries on',
      async (t) => {
        const { client, tokens } = await registerBearer(server.url)
        await client.mutation('auth.refresh', { refreshToken: tokens.refreshToken }) // response "lost"
        const retry = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        t.equal(retry.status, 200)
        client.bearer = retry.data.tokens!.accessToken
        t.equal((await client.query('auth.me')).status, 200)
        const onward = await client.mutation('auth.refresh', {
          refreshToken: retry.data.tokens!.refreshToken,
        })
        t.equal(onward.status, 200)
      },
    )
  }),
)

t.test('expired sessions cannot rotate', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const server = await startServer(database, {
      accessTokenTtl: 1,
      refreshIdleTtl: 2,
      sessionMaxAge: 2,
      clockLeeway: 0,
      clock: clock.read,
    })
    t.teardown(server.close)
    const { client, tokens } = await registerBearer(server.url)
    clock.advance(2.2)
    const reply = await client.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
    t.equal(reply.status, 401)
    t.equal(reply.reason, 'SESSION_EXPIRED')
    const me = await client.query('auth.me')
    t.equal(me.reason, 'TOKEN_EXPIRED', 'the access token expired first, and says so')
  }),
)
