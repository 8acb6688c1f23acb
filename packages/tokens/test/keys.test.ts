import t from 'tap'
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  initialKeys,
  KeySet,
  pruneRetiredKeys,
  rotateKeys,
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
    ...(await initialKeys()),
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
  const next = await generateSigningKey({ state: 'next' })
  const active = await generateSigningKey({ state: 'active' })
  t.throws(() => KeySet.from([next]), /exactly one active key, it has 0/)
  const secondActive = await generateSigningKey({ state: 'active' })
  t.throws(() => KeySet.from([active, secondActive]), /it has 2/)
  t.throws(() => KeySet.from([active, active]), /exactly one active key, it has 2/)
  t.equal(KeySet.from([active, next]).signingKey().kid, active.kid)
})

t.test(
  'rotation: next signs, active retires but still verifies, old retired keys go',
  async (t) => {
    const clock = fixedClock()
    const at = () => new Date(clock())
    const first = await initialKeys({ now: at() })
    const [active0, next0] = first as [(typeof first)[0], (typeof first)[0]]
    const opts = { issuer: ISSUER, audience: AUDIENCE, clock, ttl: '15m' }

    let keys = KeySet.from(first)
    const oldToken = (await createAccessTokenSigner({ ...opts, keys }).sign({ sub: 'u', sid: 's' }))
      .token
    t.ok(
      keys.jwks().keys.some((k) => k.kid === next0.kid),
      'the next key is published before it signs',
    )

    clock.advance(60)
    keys = KeySet.from(await rotateKeys(keys.keys, { retireAfter: '15m', now: at() }))
    t.equal(keys.signingKey().kid, next0.kid, 'the published next key now signs')
    t.equal(keys.verificationKey(active0.kid)?.state, 'retired')
    t.equal(keys.keys.filter((k) => k.state === 'next').length, 1, 'a new next key is published')
    const verifier = createAccessTokenVerifier({ ...opts, keys })
    t.equal(
      verifier.verify(oldToken).sub,
      'u',
      'a token of the retired, still published key verifies',
    )
    const newToken = (await createAccessTokenSigner({ ...opts, keys }).sign({ sub: 'v', sid: 's' }))
      .token
    t.equal(verifier.verify(newToken).sub, 'v')

    clock.advance(15 * 60 + 1)
    const pruned = pruneRetiredKeys(keys.keys, { retireAfter: '15m', now: at() })
    t.notOk(
      pruned.some((k) => k.kid === active0.kid),
      'the retired key is dropped once its tokens expired',
    )
    const afterPrune = createAccessTokenVerifier({
      ...opts,
      keys: KeySet.from(pruned),
      clockLeeway: 0,
    })
    t.throws(() => afterPrune.verify(oldToken), {
      reason: 'TOKEN_INVALID',
      message: 'kid is unknown',
    })

    const rotatedTwice = await rotateKeys(pruned, { retireAfter: '15m', now: at() })
    t.equal(rotatedTwice.length, 3, 'active, retired, next')
    t.same(rotatedTwice.map((k) => k.state).sort(), ['active', 'next', 'retired'])
  },
)

t.test('rotation without a next key still yields an active and a next key', async (t) => {
  const only = await generateSigningKey({ state: 'active' })
  const rotated = await rotateKeys([only], { retireAfter: 60 })
  t.same(
    rotated.map((k) => k.state),
    ['retired', 'active', 'next'],
  )
  await t.rejects(rotateKeys([only], { retireAfter: 'soon' }), /retireAfter/)
})
