import { randomUUID } from 'node:crypto'
import { createDatabase } from '@breakwater/db'
import { startTestPostgres } from '@breakwater/db/testing'
import t from 'tap'
import {
  type AuthResult,
  Client,
  PASSWORD,
  type Reply,
  registerBearer,
  sleep,
  startServer,
  uniqueEmail,
} from './helpers.js'
import { linkToken, nthMail, startSmtpServer } from './smtp.js'

const PUBLIC_URL = 'https://app.example.test'

/** Polls until `check` holds or `ms` pass; returns the time it took, or -1. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now()
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start
    await sleep(20)
  }
  return -1
}

t.test('two instances on one PostgreSQL', async (t) => {
  const postgres = await startTestPostgres()
  const url = await postgres.createDatabaseUrl()
  const databaseA = await createDatabase(url)
  const databaseB = await createDatabase(url)
  const smtp = await startSmtpServer()
  const a = await startServer(databaseA, { publicUrl: PUBLIC_URL, mail: { smtpUrl: smtp.url } })
  const b = await startServer(databaseB)
  t.teardown(async () => {
    await smtp.close()
    await a.close()
    await b.close()
    await databaseA.close()
    await databaseB.close()
  })

  await t.test('they share signing keys: a token from A works on B', async (t) => {
    const { tokens } = await registerBearer(a.url)
    const onB = new Client(b.url)
    onB.bearer = tokens.accessToken
    t.equal((await onB.query('auth.me')).status, 200)
    const jwksA = await (await fetch(`${a.url}/.well-known/jwks.json`)).text()
    const jwksB = await (await fetch(`${b.url}/.well-known/jwks.json`)).text()
    t.equal(jwksA, jwksB)
  })

  await t.test(
    'a revocation on A reaches B within 1 s, for every kind of revocation',
    async (t) => {
      const lags: number[] = []
      const check = async (
        name: string,
        revoke: (client: Client, tokens: NonNullable<AuthResult['tokens']>) => Promise<unknown>,
      ) => {
        const { client, tokens } = await registerBearer(a.url)
        const onB = new Client(b.url)
        onB.bearer = tokens.accessToken
        t.equal((await onB.query('auth.me')).status, 200, `${name}: live on B first`)
        await revoke(client, tokens)
        // sessions.revoke of an unknown id: authentication reads only the in-memory
        // revocation set, so SESSION_REVOKED here is the broadcast arriving, not a
        // database read; a live session gets SESSION_NOT_FOUND and nothing changes.
        const lag = await within(
          1000,
          async () =>
            (await onB.mutation('sessions.revoke', { sessionId: randomUUID() })).reason ===
            'SESSION_REVOKED',
        )
        t.ok(lag >= 0, `${name}: B refuses the access token within 1 s (${lag.toFixed(0)} ms)`)
        lags.push(lag)
      }
      await check('logout', (client) => client.mutation('auth.logout'))
      await check('logoutAll', (client) => client.mutation('auth.logoutAll'))
      await check('sessions.revoke', async (client, tokens) => {
        const me = await client.query<AuthResult>('auth.me')
        void tokens
        return client.mutation('sessions.revoke', { sessionId: me.data.session.id })
      })
      await check('reuse detection', async (client, tokens) => {
        const next = await client.mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        await client.mutation('auth.refresh', { refreshToken: next.data.tokens!.refreshToken })
        return client.mutation('auth.refresh', { refreshToken: tokens.refreshToken })
      })
      await check('changePassword', async (_client, tokens) => {
        const me = new Client(a.url)
        me.bearer = tokens.accessToken
        const other = new Client(a.url)
        const email = (await me.query<AuthResult>('auth.me')).data.user.email
        const second = await other.mutation<AuthResult>('auth.login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        })
        other.bearer = second.data.tokens!.accessToken
        return other.mutation('auth.changePassword', {
          currentPassword: PASSWORD,
          newPassword: 'a brand new passphrase',
        })
      })
      await check('resetPassword', async (client) => {
        const email = (await client.query<AuthResult>('auth.me')).data.user.email
        const sent = smtp.received.length
        await client.mutation('auth.requestPasswordReset', { email })
        const mail = await nthMail(smtp.received, sent + 1)
        return new Client(a.url).mutation('auth.resetPassword', {
          token: linkToken(mail, PUBLIC_URL, 'reset-password'),
          newPassword: 'a brand new passphrase',
        })
      })
      await check('deleteAccount', (client) =>
        client.mutation('auth.deleteAccount', { currentPassword: PASSWORD }),
      )
      t.comment(`revocation lag A → B, ms: ${lags.map((l) => l.toFixed(0)).join(', ')}`)
    },
  )

  await t.test(
    'a restarted instance keeps every session and still knows recent revocations',
    async (t) => {
      const live = await registerBearer(a.url)
      const dead = await registerBearer(a.url)
      await dead.client.mutation('auth.logout')
      const databaseC = await createDatabase(url)
      const c = await startServer(databaseC)
      t.teardown(async () => {
        await c.close()
        await databaseC.close()
      })
      const liveOnC = new Client(c.url)
      liveOnC.bearer = live.tokens.accessToken
      t.equal((await liveOnC.mutation('auth.logoutAll', { keepCurrent: true })).status, 200)
      const refreshed = await new Client(c.url).mutation('auth.refresh', {
        refreshToken: live.tokens.refreshToken,
      })
      t.equal(refreshed.status, 200, 'refresh works on the new instance')
      const deadOnC = new Client(c.url)
      deadOnC.bearer = dead.tokens.accessToken
      t.equal(
        (await deadOnC.mutation('auth.logoutAll', { keepCurrent: true })).reason,
        'SESSION_REVOKED',
        'loaded at start',
      )
    },
  )

  await t.test(
    'PostgreSQL down: valid access tokens still answer, refresh is 503, nothing lost',
    async (t) => {
      if (!postgres.controllable) {
        t.comment('TEST_DATABASE_URL points at a server this suite cannot stop')
        return
      }
      const { client, tokens, email } = await registerBearer(a.url)
      const me = await client.query<AuthResult>('auth.me')
      t.equal(me.status, 200)
      await postgres.stop()
      try {
        const list = await client.mutation('auth.logoutAll', { keepCurrent: true })
        t.equal(list.status, 503, 'a call that must write says DB_UNAVAILABLE')
        t.equal(list.reason, 'DB_UNAVAILABLE')
        const meDown = await client.query<AuthResult>('auth.me')
        t.equal(meDown.status, 200, 'an authenticated read still answers')
        t.equal(meDown.data.user.email, me.data.user.email)
        const refresh = await new Client(a.url).mutation('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        t.equal(refresh.status, 503)
        t.equal(refresh.reason, 'DB_UNAVAILABLE')
        const login = await new Client(a.url).mutation('auth.login', { email, password: PASSWORD })
        t.equal(login.status, 503)
        t.notMatch(
          JSON.stringify(login.body),
          /ECONNREFUSED|password|postgres/i,
          'no internals in the answer',
        )
      } finally {
        await postgres.start()
      }
      let refreshed: Reply<AuthResult> | undefined
      const lag = await within(10_000, async () => {
        refreshed = await new Client(a.url).mutation<AuthResult>('auth.refresh', {
          refreshToken: tokens.refreshToken,
        })
        return refreshed.status === 200
      })
      t.ok(lag >= 0, `refresh works again once PostgreSQL is back (${lag.toFixed(0)} ms)`)
      client.bearer = refreshed?.data.tokens?.accessToken
      t.equal((await client.query('auth.me')).status, 200, 'the session survived')
      const again = await new Client(a.url).mutation('auth.login', { email, password: PASSWORD })
      t.equal(again.status, 200)
      void uniqueEmail
    },
  )
})
