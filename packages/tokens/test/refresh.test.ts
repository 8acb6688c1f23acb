import t from 'tap'
import {
  hashRefreshToken,
  isRefreshTokenShape,
  mintRefreshToken,
  openSuccessor,
  safeEqual,
  sealSuccessor,
} from '../src/index.js'

t.test('minted refresh tokens are 256-bit base64url and unique', async (t) => {
  const tokens = new Set<string>()
  for (let i = 0; i < 2000; i++) tokens.add(mintRefreshToken())
  t.equal(tokens.size, 2000)
  for (const token of tokens) {
    t.equal(Buffer.from(token, 'base64url').length, 32)
    t.ok(isRefreshTokenShape(token), '43 base64url characters')
  }
  // Every byte position takes many values: the bits come from a CSPRNG, not a counter.
  const firstBytes = new Set([...tokens].map((token) => Buffer.from(token, 'base64url')[0]))
  t.ok(firstBytes.size > 200, `${firstBytes.size} distinct first bytes`)
})

t.test('shape check refuses anything else', async (t) => {
  for (const bad of [
    '',
    'short',
    `${mintRefreshToken()}x`,
    `${mintRefreshToken().slice(0, 42)}+`,
    null,
    42,
    {},
  ]) {
    t.notOk(isRefreshTokenShape(bad), String(bad))
  }
})

t.test('hash is SHA-256 base64url, deterministic, and not the token', async (t) => {
  const token = mintRefreshToken()
  const hash = hashRefreshToken(token)
  t.equal(hash, hashRefreshToken(token))
  t.equal(Buffer.from(hash, 'base64url').length, 32)
  t.not(hash, token)
  t.not(hashRefreshToken(mintRefreshToken()), hash)
  t.throws(() => hashRefreshToken(undefined as unknown as string), TypeError)
})

t.test('safeEqual compares whole values', async (t) => {
  t.ok(safeEqual('abc', 'abc'))
  t.notOk(safeEqual('abc', 'abd'))
  t.notOk(safeEqual('abc', 'abcd'))
  t.notOk(safeEqual('', 'a'))
  t.ok(safeEqual('', ''))
})

t.test('a sealed successor opens only with the token it replaces', async (t) => {
  const previous = mintRefreshToken()
  const successor = mintRefreshToken()
  const sealed = sealSuccessor(previous, successor)
  t.notMatch(sealed, successor, 'the successor is not visible in the seal')
  t.equal(openSuccessor(previous, sealed), successor)
  t.not(sealSuccessor(previous, successor), sealed, 'a fresh IV every time')
  t.equal(openSuccessor(mintRefreshToken(), sealed), null, 'another token opens nothing')
  const [v, iv, body, tag] = sealed.split('.') as [string, string, string, string]
  const flipped = Buffer.from(body, 'base64url')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  t.equal(
    openSuccessor(previous, [v, iv, flipped.toString('base64url'), tag].join('.')),
    null,
    'tampering is detected',
  )
  for (const garbage of ['', 'v1', 'v2.a.b.c', 'v1...', 'v1.a.b.c', null as unknown as string]) {
    t.equal(openSuccessor(previous, garbage), null, `garbage ${String(garbage)}`)
  }
})
