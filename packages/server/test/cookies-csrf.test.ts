import { openTestDatabase } from '@breakwater/db/testing'
import t from 'tap'
import { type AuthResult, Client, PASSWORD, startServer, uniqueEmail } from './helpers.js'

function parseCookie(line: string) {
  const [pair, ...attributes] = line.split(';').map((s) => s.trim())
  const eq = pair!.indexOf('=')
  const attrs = new Map(
    attributes.map((a) => {
      const i = a.indexOf('=')
      return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)]
    }),
  )
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attrs }
}

t.test('cookies and CSRF (SPEC §5)', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await startServer(database, {
    accessTokenTtl: '15m',
    allowedOrigins: ['http://app.localtest:5173'],
  })
  t.teardown(server.close)

  await t.test('cookie attributes on plain-HTTP loopback', async (t) => {
    const client = new Client(server.url)
    const reply = await client.mutation<AuthResult>('auth.register', {
      email: uniqueEmail(),
      password: PASSWORD,
    })
    const cookies = reply.setCookies.map(parseCookie)
    const access = cookies.find((c) => c.name === 'bw_access')!
    const refresh = cookies.find((c) => c.name === 'bw_refresh')!
    t.ok(access && refresh, 'bw_access and bw_refresh set')
    t.ok(access.attrs.has('httponly'))
    t.equal(access.attrs.get('samesite'), 'Lax')
    t.equal(access.attrs.get('path'), '/')
    t.equal(
      access.attrs.get('max-age'),
      refresh.attrs.get('max-age'),
      'the access cookie lives as long as the refresh cookie (SPEC §5), not its token',
    )
    t.notOk(access.attrs.has('secure'), 'no Secure on plain-HTTP loopback')
    t.ok(refresh.attrs.has('httponly'))
    t.equal(refresh.attrs.get('samesite'), 'Strict')
    t.equal(
      refresh.attrs.get('path'),
      '/trpc/auth.refresh',
      'refresh cookie only goes to the refresh path',
    )
    t.ok(Number(refresh.attrs.get('max-age')) > 6 * 86_400)
    t.notMatch(JSON.stringify(reply.body), access.value, 'no token in the body')

    const refreshed = await client.mutation<AuthResult>('auth.refresh')
    t.equal(refreshed.status, 200, 'cookie refresh with the CSRF header works')
    t.equal(refreshed.setCookies.length, 2)

    const out = await client.mutation('auth.logout')
    t.same(out.data, { ok: true })
    const cleared = out.setCookies.map(parseCookie)
    t.same(
      cleared.map((c) => [c.name, c.value, c.attrs.get('max-age'), c.attrs.get('path')]).sort(),
      [
        ['bw_access', '', '0', '/'],
        ['bw_refresh', '', '0', '/trpc/auth.refresh'],
      ],
    )
  })

  await t.test(
    'Secure and the __Host-/__Secure- prefixes behind TLS (X-Forwarded-Proto from a trusted proxy)',
    async (t) => {
      const secureDb = await openTestDatabase('pglite')
      t.teardown(() => secureDb.close())
      const secure = await startServer(secureDb, { cookieSecure: true })
      t.teardown(secure.close)
      const reply = await new Client(secure.url).mutation('auth.register', {
        email: uniqueEmail(),
        password: PASSWORD,
      })
      const names = reply.setCookies.map(parseCookie)
      t.same(names.map((c) => c.name).sort(), ['__Host-bw_access', '__Secure-bw_refresh'])
      for (const c of names) t.ok(c.attrs.has('secure'), `${c.name} is Secure`)
    },
  )

  await t.test(
    'cookie-authenticated mutations need the header and an allowed Origin',
    async (t) => {
      const client = new Client(server.url)
      await client.mutation('auth.register', { email: uniqueEmail(), password: PASSWORD })
      client.csrf = false
      const noHeader = await client.mutation('auth.logoutAll')
      t.equal(noHeader.status, 403)
      t.equal(noHeader.reason, 'CSRF_REJECTED')
      const noHeaderRefresh = await client.mutation('auth.refresh')
      t.equal(noHeaderRefresh.reason, 'CSRF_REJECTED')
      const noHeaderLogout = await client.mutation('auth.logout')
      t.equal(noHeaderLogout.reason, 'CSRF_REJECTED', 'a cross-site form cannot sign the user out')
      const stranger = new Client(server.url)
      stranger.csrf = false
      const cookieless = await stranger.request('POST', '/trpc/auth.logout', {
        body: (() => {
          const form = new FormData()
          form.set('x', '1')
          return form as unknown as string
        })(),
        headers: { origin: 'http://evil.localtest:8080' },
      })
      t.equal(
        cookieless.status,
        403,
        'a cross-site form with no cookie (SameSite kept it back) is refused too',
      )
      t.equal(cookieless.setCookies.length, 0, 'and clears no cookie')
      client.csrf = true
      const foreign = await client.mutation('auth.logoutAll', undefined, {
        origin: 'http://evil.localtest:8080',
      })
      t.equal(foreign.reason, 'CSRF_REJECTED')
      const textPlain = await client.request('POST', '/trpc/auth.logout', {
        body: '{"a":1}',
        headers: { 'content-type': 'text/plain', origin: 'http://evil.localtest:8080' },
      })
      t.ok(
        [403, 415].includes(textPlain.status),
        `a text/plain form post is refused (${textPlain.status})`,
      )
      t.equal(textPlain.setCookies.length, 0, 'and clears nothing')
      client.csrf = false
      const query = await client.query('sessions.list', undefined, {
        origin: 'http://evil.localtest:8080',
      })
      client.csrf = true
      t.equal(query.status, 200, 'queries change nothing, so they need no CSRF proof')
      const own = await client.mutation(
        'auth.logoutAll',
        { keepCurrent: true },
        { origin: server.url },
      )
      t.equal(own.status, 200, 'own origin with the header passes')
      const listed = await client.mutation(
        'auth.logoutAll',
        { keepCurrent: true },
        { origin: 'http://app.localtest:5173' },
      )
      t.equal(listed.status, 200, 'an allowed origin passes')
      t.equal(
        (await client.query('auth.me')).status,
        200,
        'nothing the rejected calls tried happened',
      )
    },
  )

  await t.test(
    'login CSRF: a foreign Origin or a cross-site fetch cannot sign a victim in',
    async (t) => {
      const email = uniqueEmail()
      await new Client(server.url).mutation('auth.register', { email, password: PASSWORD })
      const victim = new Client(server.url)
      victim.csrf = false
      const foreign = await victim.mutation(
        'auth.login',
        { email, password: PASSWORD },
        { origin: 'http://evil.localtest:8080' },
      )
      t.equal(foreign.reason, 'CSRF_REJECTED')
      const crossSite = await victim.mutation(
        'auth.login',
        { email, password: PASSWORD },
        { 'sec-fetch-site': 'cross-site' },
      )
      t.equal(crossSite.reason, 'CSRF_REJECTED')
      t.equal(victim.jar.size, 0, 'no cookie was set')
      const sameSite = await victim.mutation(
        'auth.login',
        { email, password: PASSWORD },
        { 'sec-fetch-site': 'same-origin' },
      )
      t.equal(sameSite.status, 200, 'no header needed for login from our own page')
      const bearer = await new Client(server.url).mutation(
        'auth.login',
        { email, password: PASSWORD, transport: 'bearer' },
        { origin: 'http://evil.localtest:8080' },
      )
      t.equal(
        bearer.status,
        200,
        'bearer transport sets no ambient credential, so Origin does not matter',
      )
    },
  )

  await t.test('bearer calls need no CSRF header', async (t) => {
    const client = new Client(server.url)
    client.csrf = false
    const reg = await client.mutation<AuthResult>('auth.register', {
      email: uniqueEmail(),
      password: PASSWORD,
      transport: 'bearer',
    })
    client.bearer = reg.data.tokens!.accessToken
    t.equal(
      (
        await client.mutation(
          'auth.logoutAll',
          { keepCurrent: true },
          { origin: 'http://evil.localtest:8080' },
        )
      ).status,
      200,
    )
  })
})
