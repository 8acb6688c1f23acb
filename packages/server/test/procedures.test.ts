import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

t.test('every procedure over plain HTTP', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const server = await startServer(database)
    t.teardown(server.close)

    await t.test('register signs in and normalises the email', async (t) => {
      const client = new Client(server.url)
      const reply = await client.mutation<AuthResult>('auth.register', {
        email: '  Ada.Lovelace@Example.COM ',
        password: PASSWORD,
        displayName: ' Ada ',
        unknownKey: 'dropped',
      })
      t.equal(reply.status, 200, JSON.stringify(reply.body))
      t.equal(
        reply.data.user.email,
        'Ada.Lovelace@example.com',
        'trimmed, domain lower-cased, local part kept',
      )
      t.equal(reply.data.user.displayName, 'Ada')
      t.notOk('tokens' in reply.data, 'cookie transport puts no token in the body')
      t.match(reply.data.session.accessTokenExpiresAt, /^\d{4}-\d\d-\d\dT/)
      const me = await client.query<AuthResult>('auth.me')
      t.equal(me.status, 200)
      t.equal(me.data.user.id, reply.data.user.id)
      t.equal(me.data.session.id, reply.data.session.id)
    })

    await t.test(
      'register refuses a taken email (any case), weak and malformed input',
      async (t) => {
        const client = new Client(server.url)
        const email = uniqueEmail()
        t.equal((await client.mutation('auth.register', { email, password: PASSWORD })).status, 200)
        const taken = await client.mutation('auth.register', {
          email: email.toUpperCase(),
          password: PASSWORD,
        })
        t.equal(taken.status, 409)
        t.equal(taken.reason, 'EMAIL_TAKEN')
        for (const weak of [
          'short',
          'x'.repeat(11),
          'password1234',
          '123456789012',
          'aaaaaaaaaaaaaaa',
          'é'.repeat(257),
          'ﬀ'.repeat(5),
        ]) {
          const reply = await client.mutation('auth.register', {
            email: uniqueEmail(),
            password: weak,
          })
          t.equal(reply.status, 400, `weak ${weak.slice(0, 12)}`)
          t.equal(reply.reason, 'WEAK_PASSWORD')
        }
        const malformed: unknown[] = [
          {},
          { email: 'not-an-email', password: PASSWORD },
          { email: 42, password: PASSWORD },
          { email: uniqueEmail(), password: null },
          { email: uniqueEmail(), password: 'p'.repeat(5000) },
          { email: `${'a'.repeat(300)}@example.com`, password: PASSWORD },
          { email: uniqueEmail(), password: PASSWORD, transport: 'carrier-pigeon' },
          { email: uniqueEmail(), password: PASSWORD, displayName: 'x'.repeat(500) },
          [1, 2, 3],
          'just a string',
        ]
        for (const input of malformed) {
          const reply = await client.mutation('auth.register', input)
          t.equal(reply.status, 400, `malformed ${JSON.stringify(input).slice(0, 40)}`)
          t.equal(reply.body.error?.data.code, 'BAD_REQUEST')
          t.notMatch(JSON.stringify(reply.body), /at .*\.(ts|js):\d+/, 'no stack trace')
        }
        const broken = await client.request('POST', '/trpc/auth.register', {
          body: '{"email": ',
          headers: { 'content-type': 'application/json' },
        })
        t.ok(broken.status >= 400 && broken.status < 500, `broken JSON is a 4xx (${broken.status})`)
      },
    )

    await t.test(
      'login: cookie and bearer transports, wrong password, unknown email',
      async (t) => {
        const email = uniqueEmail()
        await new Client(server.url).mutation('auth.register', { email, password: PASSWORD })
        const cookie = new Client(server.url)
        const ok = await cookie.mutation<AuthResult>('auth.login', {
          email: email.toLowerCase(),
          password: PASSWORD,
        })
        t.equal(ok.status, 200)
        t.equal(cookie.jar.size, 2, 'two cookies set')
        const bearer = new Client(server.url)
        const viaBearer = await bearer.mutation<AuthResult>('auth.login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        })
        t.equal(viaBearer.status, 200)
        t.equal(viaBearer.setCookies.length, 0, 'bearer transport sets no cookie')
        t.match(viaBearer.data.tokens, { accessToken: /\./, refreshToken: /^[A-Za-z0-9_-]{43}$/ })
        const wrong = await bearer.mutation('auth.login', { email, password: `${PASSWORD}!` })
        const unknown = await bearer.mutation('auth.login', {
          email: uniqueEmail('nobody'),
          password: PASSWORD,
        })
        for (const reply of [wrong, unknown]) {
          t.equal(reply.status, 401)
          t.equal(reply.reason, 'INVALID_CREDENTIALS')
        }
        t.equal(wrong.body.error?.message, unknown.body.error?.message, 'the same answer for both')
      },
    )

    await t.test('me and the token reasons', async (t) => {
      const { client, tokens } = await registerBearer(server.url)
      t.equal((await client.query('auth.me')).status, 200)
      const none = new Client(server.url)
      const missing = await none.query('auth.me')
      t.equal(missing.status, 401)
      t.equal(missing.reason, 'TOKEN_MISSING')
      none.bearer = `${tokens.accessToken.slice(0, -3)}AAA`
      t.equal((await none.query('auth.me')).reason, 'TOKEN_INVALID')
      const malformedHeader = await new Client(server.url).query('auth.me', undefined, {
        authorization: 'Basic dXNlcjpwYXNz',
      })
      t.equal(malformedHeader.reason, 'TOKEN_INVALID')
    })

    await t.test(
      'refresh in bearer transport rotates; the old token within grace gets the same successor',
      async (t) => {
        const { client, tokens } = await registerBearer(server.url)
        const first = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        t.equal(first.status, 200, JSON.stringify(first.body))
        t.not(first.data.tokens!.refreshToken, tokens.refreshToken, 'rotated')
        const again = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        t.equal(again.status, 200)
        t.equal(
          again.data.tokens!.refreshToken,
          first.data.tokens!.refreshToken,
          'same successor within the grace window',
        )
        const next = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: first.data.tokens!.refreshToken,
        })
        t.equal(next.status, 200, 'the successor is the live token')
        const missing = await new Client(server.url).mutation('auth.refresh', {})
        t.equal(missing.reason, 'REFRESH_MISSING')
        for (const bad of ['x', 'A'.repeat(43), `${tokens.refreshToken}=`]) {
          const reply = await new Client(server.url).mutation('auth.refresh', { refreshToken: bad })
          t.equal(reply.status, 401)
          t.equal(reply.reason, 'REFRESH_INVALID', bad)
        }
      },
    )

    await t.test(
      'logout ends the session; access token then answers SESSION_REVOKED',
      async (t) => {
        const { client, tokens } = await registerBearer(server.url)
        const out = await client.mutation('auth.logout')
        t.same(out.data, { ok: true })
        const me = await client.query('auth.me')
        t.equal(me.status, 401)
        t.equal(me.reason, 'SESSION_REVOKED')
        const refresh = await client.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
        t.equal(refresh.reason, 'SESSION_REVOKED')
        const noop = await new Client(server.url).mutation('auth.logout')
        t.same(noop.data, { ok: true }, 'no token: a no-op')

        const other = await registerBearer(server.url)
        const byRefresh = await new Client(server.url).mutation('auth.logout', {
          refreshToken: other.tokens.refreshToken,
        })
        t.same(byRefresh.data, { ok: true }, 'a refresh token alone signs out too')
        t.equal((await other.client.query('auth.me')).reason, 'SESSION_REVOKED')
        const forged = await new Client(server.url).mutation('auth.logout', {
          refreshToken: 'A'.repeat(43),
        })
        t.equal(forged.reason, 'REFRESH_INVALID')
        const forgedAccess = await new Client(server.url).mutation('auth.logout', undefined, {
          authorization: 'Bearer not.a.token',
        })
        t.equal(forgedAccess.reason, 'TOKEN_INVALID', 'a forged access token signs no one out')
      },
    )

    await t.test('sessions.list, sessions.revoke (own only), logoutAll', async (t) => {
      const { client, email } = await registerBearer(server.url)
      const second = new Client(server.url)
      const login = await second.mutation<AuthResult>('auth.login', {
        email,
        password: PASSWORD,
        transport: 'bearer',
      })
      second.bearer = login.data.tokens!.accessToken
      const list =
        await client.query<Array<{ id: string; current: boolean; userAgent: string | null }>>(
          'sessions.list',
        )
      t.equal(list.data.length, 2)
      t.equal(list.data.filter((s) => s.current).length, 1)
      const other = list.data.find((s) => !s.current)!
      t.equal(other.id, login.data.session.id)

      const stranger = await registerBearer(server.url)
      const probe = await stranger.client.mutation('sessions.revoke', { sessionId: other.id })
      t.equal(probe.status, 404)
      t.equal(probe.reason, 'SESSION_NOT_FOUND', "another user's session looks like none")
      const missing = await stranger.client.mutation('sessions.revoke', {
        sessionId: '00000000-0000-4000-8000-000000000000',
      })
      t.same(
        [missing.status, missing.reason, missing.body.error?.message],
        [probe.status, probe.reason, probe.body.error?.message],
      )
      t.equal(
        (
          await stranger.client.mutation('sessions.revoke', {
            sessionId: "'; drop table sessions; --",
          })
        ).reason,
        'SESSION_NOT_FOUND',
      )
      t.equal((await second.query('auth.me')).status, 200, 'the probe changed nothing')

      t.same((await client.mutation('sessions.revoke', { sessionId: other.id })).data, { ok: true })
      t.equal((await second.query('auth.me')).reason, 'SESSION_REVOKED')

      const third = new Client(server.url)
      third.bearer = (
        await third.mutation<AuthResult>('auth.login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        })
      ).data.tokens!.accessToken
      const kept = await client.mutation<{ revoked: number }>('auth.logoutAll', {
        keepCurrent: true,
      })
      t.same(kept.data, { revoked: 1 })
      t.equal((await third.query('auth.me')).reason, 'SESSION_REVOKED')
      t.equal((await client.query('auth.me')).status, 200, 'keepCurrent kept this one')
      const all = await client.mutation<{ revoked: number }>('auth.logoutAll')
      t.same(all.data, { revoked: 1 })
      t.equal((await client.query('auth.me')).reason, 'SESSION_REVOKED')
    })

    await t.test(
      'changePassword: wrong current, weak new, success ends the other sessions',
      async (t) => {
        const { client, email } = await registerBearer(server.url)
        const other = new Client(server.url)
        other.bearer = (
          await other.mutation<AuthResult>('auth.login', {
            email,
            password: PASSWORD,
            transport: 'bearer',
          })
        ).data.tokens!.accessToken
        const wrong = await client.mutation('auth.changePassword', {
          currentPassword: 'nope nope nope',
          newPassword: 'another sturdy phrase',
        })
        t.equal(wrong.reason, 'INVALID_CREDENTIALS')
        const weak = await client.mutation('auth.changePassword', {
          currentPassword: PASSWORD,
          newPassword: 'short',
        })
        t.equal(weak.reason, 'WEAK_PASSWORD')
        t.equal((await other.query('auth.me')).status, 200, 'failed attempts changed nothing')
        const ok = await client.mutation('auth.changePassword', {
          currentPassword: PASSWORD,
          newPassword: 'another sturdy phrase',
        })
        t.same(ok.data, { ok: true })
        t.equal((await other.query('auth.me')).reason, 'SESSION_REVOKED')
        t.equal((await client.query('auth.me')).status, 200)
        const oldLogin = await new Client(server.url).mutation('auth.login', {
          email,
          password: PASSWORD,
        })
        t.equal(oldLogin.reason, 'INVALID_CREDENTIALS')
        const newLogin = await new Client(server.url).mutation('auth.login', {
          email,
          password: 'another sturdy phrase',
        })
        t.equal(newLogin.status, 200)
      },
    )

    await t.test('the JWKS publishes public keys only', async (t) => {
      const reply = await fetch(`${server.url}/.well-known/jwks.json`)
      const jwks = (await reply.json()) as { keys: Array<Record<string, unknown>> }
      t.equal(jwks.keys.length, 2, 'active and next')
      for (const key of jwks.keys) t.notOk('d' in key)
    })
  }),
)
