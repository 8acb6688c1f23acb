import { openTestDatabase } from '@breakwater/db/testing'
import { buildAttackCorpus } from '@breakwater/tokens/testing'
import t from 'tap'
import { Client, type Reply, startServer } from './helpers.js'

t.test('the JWT attack corpus, replayed against auth.me over HTTP', async (t) => {
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await startServer(database, { issuer: 'https://auth.example', audience: 'app' })
  t.teardown(server.close)
  // The key the server signs with, from its keyring: the database holds it sealed.
  const key = server.app.breakwater.keyring.signingKey()
  const corpus = buildAttackCorpus({
    key,
    issuer: 'https://auth.example',
    audience: 'app',
    now: Math.floor(Date.now() / 1000),
  })
  for (const { name, token, reason } of corpus) {
    for (const via of ['bearer', 'cookie'] as const) {
      // HTTP strips whitespace around header values: " <genuine>" arrives as the genuine token.
      if (via === 'bearer' && token.trim() !== token) continue
      const client = new Client(server.url)
      let reply: Reply
      try {
        reply =
          via === 'bearer'
            ? await client.query('auth.me', undefined, { authorization: `Bearer ${token}` })
            : await client.query('auth.me', undefined, {
                cookie: `bw_access=${encodeURIComponent(token)}`,
              })
      } catch {
        // fetch itself refuses header values with control characters: nothing reached the server.
        continue
      }
      if (token.length > 16_000) {
        // Node's HTTP parser refuses headers over 16 KB before any code of ours runs.
        t.equal(reply.status, 431, `${via}: ${name} refused by the HTTP layer`)
        continue
      }
      // An empty cookie is no cookie: the browser sent no token at all.
      const expected = token === '' && via === 'cookie' ? 'TOKEN_MISSING' : reason
      t.equal(reply.status, 401, `${via}: ${name}`)
      t.equal(reply.reason, expected, `${via}: ${name}: ${expected}`)
    }
  }
  const large = await new Client(server.url).query('auth.me', undefined, {
    authorization: `Bearer ${'a.'.repeat(5000)}a`,
  })
  t.same(
    [large.status, large.reason],
    [401, 'TOKEN_INVALID'],
    'a 10 KB token is refused before parsing',
  )
  const oversized = await new Client(server.url).query('auth.me', undefined, {
    authorization: `Bearer ${'a'.repeat(200_000)}`,
  })
  t.equal(oversized.status, 431, 'a 200 KB header is refused by the HTTP layer, not with a 5xx')
})
