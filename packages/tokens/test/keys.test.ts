import t from 'tap'
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  KEY_STATES,
  KeySet,
  type SigningKeyJson,
} from '../src/index.js'
import { AUDIENCE, fixedClock, ISSUER } from './helpers.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

for (const alg of ['EdDSA', 'ES256'] as const) {
  t.test(`${alg}: generate, export, import round trip`, async (t) => {
    const key = await generateSigningKey({ alg, state: 'active' })
    t.equal(key.alg, alg)
    t.match(key.kid, /^[A-Za-z0-9_-]{43}$/, 'kid is an RFC 7638 thumbprint')
    const json = JSON.parse(JSON.stringify(exportSigningKey(key))) as SigningKeyJson
    const restored = importSigningKey(json)
    t.equal(restored.kid, key.kid)
    t.equal(restored.state, 'active')
    t.same(restored.publicJwk, key.publicJwk)
    t.equal(restored.createdAt.getTime(), key.createdAt.getTime())

    // A token signed by the original verifies with the restored key and vice versa.
    const clock = fixedClock()
    const opts = { issuer: ISSUER, audience: AUDIENCE, clock }
    const signed = await createAccessTokenSigner({ ...opts, keys: KeySet.from([key]) }).sign({
      sub: 'u',
      sid: 's',
    })
    t.equal(
      createAccessTokenVerifier({ ...opts, keys: KeySet.from([restored]) }).verify(signed.token)
        .sub,
      'u',
    )
  })
}

t.test('import rejects malformed keys with a TypeError', async (t) => {
  const good = exportSigningKey(await generateSigningKey())
  const bad: Array<[string, unknown]> = [
    ['null', null],
    ['unknown alg', { ...good, alg: 'HS256' }],
    ['alg none', { ...good, alg: 'none' }],
    ['no kid', { ...good, kid: '' }],
    ['unknown state', { ...good, state: 'revoked' }],
    ['public key only', { ...good, privateJwk: { ...good.privateJwk, d: undefined } }],
    ['curve mismatch', { ...good, alg: 'ES256' }],
    ['garbage d', { ...good, privateJwk: { ...good.privateJwk, d: 'AAAA' } }],
    ['bad instant', { ...good, createdAt: 'yesterday' }],
  ]
  for (const [name, json] of bad) {
    t.throws(() => importSigningKey(json as SigningKeyJson), TypeError, name)
  }
})

t.test('the JWKS never holds a private member', async (t) => {
  const keys = KeySet.from([
    await generateSigningKey({ state: 'active' }),
    await generateSigningKey({ state: 'pending' }),
    await generateSigningKey({ alg: 'ES256', state: 'retired' }),
  ])
  const jwks = keys.jwks()
  t.equal(jwks.keys.length, 3)
  for (const jwk of jwks.keys) {
    for (const member of PRIVATE_MEMBERS) t.notOk(member in jwk, `${jwk.kid} has no ${member}`)
    t.equal(jwk.use, 'sig')
  }
  t.notMatch(keys.jwksJson(), /"d"/)
  // The JWKS is a copy: editing it changes nothing.
  jwks.keys.pop()
  t.equal(keys.jwks().keys.length, 3)
})

t.test('a key set needs exactly one active key and unique kids', async (t) => {
  const next = await generateSigningKey()
  t.equal(next.state, 'pending', 'a new key is pending: published before it signs')
  const active = await generateSigningKey({ state: 'active' })
  t.throws(() => KeySet.from([next]), /exactly one active key, it has 0/)
  const secondActive = await generateSigningKey({ state: 'active' })
  t.throws(() => KeySet.from([active, secondActive]), /it has 2/)
  t.throws(() => KeySet.from([active, active]), /exactly one active key, it has 2/)
  t.equal(KeySet.from([active, next]).signingKey().kid, active.kid)
})

t.test('key states are the database states: pending, active, retired', async (t) => {
  t.same(KEY_STATES, ['pending', 'active', 'retired'])
  const json = exportSigningKey(await generateSigningKey())
  for (const state of KEY_STATES) t.equal(importSigningKey({ ...json, state }).state, state)
  t.throws(
    () => importSigningKey({ ...json, state: 'next' as never }),
    { name: 'TypeError', message: /unknown state/ },
    'the old name is gone',
  )
})
