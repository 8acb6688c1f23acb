import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  createAccessTokenSigner,
  createRemoteVerifier,
  generateSigningKey,
  KeySet,
  type SigningAlgorithm,
  TokenError,
} from '../src/index.js'
import { buildAttackCorpus } from '../src/testing.js'
import { AUDIENCE, ISSUER, inState } from './helpers.js'

/** What the server publishes on a first start: an active key and a pending one. */
async function firstKeys(alg?: SigningAlgorithm): Promise<KeySet> {
  return KeySet.from([
    await generateSigningKey({ alg, state: 'active' }),
    await generateSigningKey({ alg, state: 'pending' }),
  ])
}

/**
 * One rotation as the server's keyring makes it (pending signs, active retires but stays
 * published, a new pending key is published), or with `unannounced`, a new active key
 * nobody has seen: what a verifier meets after rotations it slept through.
 */
async function rotated(keys: KeySet, unannounced = false): Promise<KeySet> {
  const pending = keys.keys.find((key) => key.state === 'pending')
  const retired = keys.keys.map((key) => (key.state === 'retired' ? key : inState(key, 'retired')))
  if (unannounced) return KeySet.from([...retired, await generateSigningKey({ state: 'active' })])
  return KeySet.from([
    ...retired.filter((key) => key.kid !== pending?.kid),
    inState(pending!, 'active'),
    await generateSigningKey(),
  ])
}

async function jwksServer(initial: KeySet) {
  const state = { keys: initial, fetches: 0 }
  const server = createServer((req, res) => {
    state.fetches++
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(state.keys.jwksJson())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  return { state, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

t.test('verifies against the issuer JWKS, caches it, and refetches after a rotation', async (t) => {
  let keys = await firstKeys()
  const jwks = await jwksServer(keys)
  t.teardown(jwks.close)
  const verifier = createRemoteVerifier({
    jwksUrl: jwks.url,
    issuer: ISSUER,
    audience: AUDIENCE,
    cooldown: 0,
  })
  const sign = (set: KeySet) =>
    createAccessTokenSigner({ issuer: ISSUER, audience: AUDIENCE, keys: set }).sign({
      sub: 'u',
      sid: 's',
    })

  const first = await sign(keys)
  t.same(await verifier.verify(first.token), first.claims)
  await Promise.all(Array.from({ length: 20 }, () => verifier.verify(first.token)))
  t.equal(jwks.state.fetches, 1, 'one fetch serves many verifications')

  keys = await rotated(keys)
  jwks.state.keys = keys
  const afterRotation = await sign(keys)
  t.equal(
    (await verifier.verify(afterRotation.token)).sub,
    'u',
    'the promoted key was already published',
  )
  t.equal(jwks.state.fetches, 1, 'no refetch: the pending key was in the first JWKS')

  keys = await rotated(keys, true)
  jwks.state.keys = keys
  const twiceRotated = await sign(keys)
  t.equal((await verifier.verify(twiceRotated.token)).sub, 'u', 'an unknown kid triggers a refetch')
  t.equal(jwks.state.fetches, 2)
  t.equal((await verifier.verify(first.token)).sub, 'u', 'the retired key still verifies')
})

t.test('the attack corpus is refused over a remote JWKS too', async (t) => {
  const keys = await firstKeys('ES256')
  const jwks = await jwksServer(keys)
  t.teardown(jwks.close)
  const verifier = createRemoteVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE })
  const corpus = buildAttackCorpus({
    key: keys.signingKey(),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: Math.floor(Date.now() / 1000),
  })
  for (const { name, token, reason } of corpus) {
    await t.rejects(verifier.verify(token), { reason, message: /./ }, name)
  }
  t.ok(
    jwks.state.fetches <= 2,
    `unknown kids did not flood the issuer (${jwks.state.fetches} fetches)`,
  )
})

t.test('an unreachable JWKS is an error of its own, not a bad token', async (t) => {
  const verifier = createRemoteVerifier({
    jwksUrl: 'http://127.0.0.1:9/jwks.json',
    issuer: ISSUER,
    audience: AUDIENCE,
    timeout: '2s',
  })
  const keys = await firstKeys()
  const { token } = await createAccessTokenSigner({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
  }).sign({ sub: 'u', sid: 's' })
  const error = await verifier.verify(token).catch((e: unknown) => e)
  t.ok(error instanceof Error)
  t.notOk(error instanceof TokenError, 'not reported as TOKEN_INVALID')
})
