import { forEachDialect } from '@breakwater/db/testing'
import t, { type Test } from 'tap'
import { Client, manualClock, PASSWORD, sleep, startServer, uniqueEmail } from './helpers.js'

interface Me {
  user: { id: string; email: string }
  session: { id: string; refreshTokenExpiresAt: string }
}

interface Issued {
  tokens: { accessToken: string; refreshToken: string }
}

// auth.me answers from memory once an instance has seen the session since its
// token was issued; these show it is never wrong for that: a revocation on
// another instance and a refresh on another instance are both seen.
t.test('auth.me from memory stays right across instances', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const a = await startServer(database, { clock: clock.read })
    t.teardown(a.close)
    const b = await startServer(database, { clock: clock.read })
    t.teardown(b.close)

    const email = uniqueEmail('reads')
    const signUp = await new Client(a.url).mutation<Issued>('auth.register', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    })
    const onA = new Client(a.url)
    onA.bearer = signUp.data.tokens.accessToken
    const first = await onA.query<Me>('auth.me')
    t.equal(first.data.user.email, email.toLowerCase())
    const again = await onA.query<Me>('auth.me')
    t.same(again.data, first.data, 'the same answer again')

    // A refresh on B moves the session's idle expiry; A's answer for the new token follows.
    clock.advance(60)
    const refreshed = await new Client(b.url).mutation<Issued>('auth.refresh', {
      refreshToken: signUp.data.tokens.refreshToken,
    })
    t.equal(refreshed.status, 200)
    const onANew = new Client(a.url)
    onANew.bearer = refreshed.data.tokens.accessToken
    const afterRefresh = await onANew.query<Me>('auth.me')
    t.ok(
      Date.parse(afterRefresh.data.session.refreshTokenExpiresAt) >
        Date.parse(first.data.session.refreshTokenExpiresAt),
      'a token issued after the rows were read reads them again',
    )

    // Revoked through B: A refuses within a second, cache or not.
    const onB = new Client(b.url)
    onB.bearer = refreshed.data.tokens.accessToken
    await onB.mutation('auth.logoutAll')
    let reason: string | undefined
    for (let i = 0; i < 50 && reason === undefined; i++) {
      reason = (await onANew.query<Me>('auth.me')).reason
      if (reason === undefined) await sleep(20)
    }
    t.equal(reason, 'SESSION_REVOKED', 'the revocation reaches the other instance')
  }),
)
