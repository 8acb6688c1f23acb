import { randomBytes } from 'node:crypto'
import t from 'tap'
import {
  createSecretBox,
  generateSecret,
  MIN_SECRET_BYTES,
  parseSecret,
  parseSecrets,
  SecretBoxError,
} from '../src/index.js'

const secret = () => randomBytes(32).toString('base64url')

t.test('a generated secret is 32 CSPRNG bytes, base64url, and parses', async (t) => {
  const generated = generateSecret()
  t.match(generated, /^[A-Za-z0-9_-]{43}$/)
  t.equal(parseSecret(generated).length, MIN_SECRET_BYTES)
  t.not(generateSecret(), generated)
})

t.test('bad secrets are TypeErrors that name the problem, never the value', async (t) => {
  const short = randomBytes(31).toString('base64url')
  const standard = randomBytes(33).toString('base64').replace(/^./, '+')
  const cases: Array<[string, unknown, RegExp]> = [
    ['not a string', 42, /BREAKWATER_SECRET must be a string/],
    ['empty', '', /BREAKWATER_SECRET is empty/],
    ['31 bytes', short, /at least 32 random bytes, it has 31/],
    ['standard base64', standard, /not base64url \(it looks like standard base64/],
    ['with padding', `${secret()}=`, /not base64url/],
    ['a passphrase', 'correct horse battery staple correct horse', /not base64url/],
    ['trailing bits set', `${secret().slice(0, -1)}B`, /not canonical base64url/],
  ]
  for (const [name, value, message] of cases) {
    try {
      parseSecret(value, 'BREAKWATER_SECRET')
      t.fail(`${name}: accepted`)
    } catch (error) {
      t.ok(error instanceof TypeError, `${name}: TypeError`)
      t.match((error as Error).message, message, name)
      if (typeof value === 'string' && value.length > 8) {
        t.notOk((error as Error).message.includes(value.slice(0, 8)), `${name}: value not echoed`)
      }
    }
  }
})

t.test('a list: comma-separated or an array, newest first, duplicates dropped', async (t) => {
  const [a, b] = [secret(), secret()]
  t.equal(parseSecrets(`${a}, ${b}`).length, 2)
  t.equal(parseSecrets([a, b, a]).length, 2)
  t.same(parseSecrets(a)[0], Buffer.from(a, 'base64url'))
  t.throws(() => parseSecrets(`${a},short`, 'BREAKWATER_SECRET'), {
    name: 'TypeError',
    message: /^BREAKWATER_SECRET \(entry 2\) /,
  })
  t.throws(() => parseSecrets([]), { name: 'TypeError', message: /empty/ })
  t.throws(() => parseSecrets(' , '), { name: 'TypeError', message: /empty/ })
})

t.test('seal and open round trip; every seal is fresh; the value is not visible', async (t) => {
  const box = createSecretBox(secret())
  const plaintext = 'the private key seed'
  const sealed = box.seal(plaintext, 'signing-key:k1')
  t.match(sealed, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
  t.equal(sealed.split('.')[1], box.keyIds[0], 'names the sealing key by its id')
  t.notMatch(sealed, /private/)
  t.equal(box.openText(sealed, 'signing-key:k1'), plaintext)
  t.not(box.seal(plaintext, 'signing-key:k1'), sealed, 'a fresh IV every time')
  const bytes = randomBytes(20)
  t.same(box.open(box.seal(bytes, 'totp:u1'), 'totp:u1'), bytes, 'bytes too')
  t.ok(box.isCurrent(sealed))
})

t.test('associated data binds a sealed value to its row', async (t) => {
  const box = createSecretBox(secret())
  const forK1 = box.seal('secret of k1', 'signing-key:k1')
  t.throws(() => box.open(forK1, 'signing-key:k2'), {
    name: 'SecretBoxError',
    code: 'SECRET_BOX_UNOPENABLE',
  })
  t.throws(() => box.open(forK1, ''), TypeError, 'associated data is required')
  t.throws(() => box.seal('x', undefined as unknown as string), TypeError)
})

t.test('tampering with any part is detected', async (t) => {
  const box = createSecretBox(secret())
  const sealed = box.seal('value', 'ad')
  const [v, id, iv, body] = sealed.split('.') as [string, string, string, string]
  const flip = (part: string) => {
    const bytes = Buffer.from(part, 'base64url')
    bytes[0] = (bytes[0] ?? 0) ^ 1
    return bytes.toString('base64url')
  }
  for (const [name, edited, code] of [
    ['iv', [v, id, flip(iv), body], 'SECRET_BOX_UNOPENABLE'],
    ['ciphertext', [v, id, iv, flip(body)], 'SECRET_BOX_UNOPENABLE'],
    ['key id', [v, flip(id), iv, body], 'SECRET_BOX_UNKNOWN_KEY'],
    ['version', ['v2', id, iv, body], 'SECRET_BOX_MALFORMED'],
    ['truncated', [v, id, iv, body.slice(0, 10)], 'SECRET_BOX_MALFORMED'],
    ['extra part', [v, id, iv, body, 'x'], 'SECRET_BOX_MALFORMED'],
  ] as const) {
    t.throws(() => box.open(edited.join('.'), 'ad'), { name: 'SecretBoxError', code }, name)
  }
  for (const garbage of ['', 'v1', 'v1...', null, 42]) {
    t.throws(() => box.open(garbage as string, 'ad'), { code: 'SECRET_BOX_MALFORMED' })
  }
})

t.test('rotation: the first secret seals, any opens, reseal moves to the first', async (t) => {
  const [oldSecret, newSecret] = [secret(), secret()]
  const old = createSecretBox(oldSecret)
  const sealedOld = old.seal('k', 'ad')

  const rotating = createSecretBox([newSecret, oldSecret])
  t.equal(rotating.keyIds[1], old.keyIds[0], 'key ids are stable per secret')
  t.equal(rotating.openText(sealedOld, 'ad'), 'k', 'the old secret still opens')
  t.notOk(rotating.isCurrent(sealedOld), 'but it needs a rewrap')
  const resealed = rotating.reseal(sealedOld, 'ad')
  t.ok(rotating.isCurrent(resealed))
  t.equal(resealed.split('.')[1], rotating.keyIds[0])

  const onlyNew = createSecretBox(newSecret)
  t.equal(onlyNew.openText(resealed, 'ad'), 'k', 'the new secret alone opens the rewrapped value')
  const error = (() => {
    try {
      onlyNew.open(sealedOld, 'ad')
    } catch (e) {
      return e as SecretBoxError
    }
  })()
  t.ok(error instanceof SecretBoxError)
  t.equal(error?.code, 'SECRET_BOX_UNKNOWN_KEY')
  t.notMatch(error?.message ?? '', new RegExp(`${oldSecret}|${newSecret}`), 'no secret in it')
})

t.test('a box over a bad secret is a TypeError at creation', async (t) => {
  t.throws(() => createSecretBox('too short'), TypeError)
  t.throws(() => createSecretBox([]), TypeError)
})

t.test('digest: keyed by the first secret and the label, never the value alone', async (t) => {
  const a = generateSecret()
  const b = generateSecret()
  const box = createSecretBox([a, b])
  const value = '123456'
  const digest = box.digest('sign_in_code', value)
  t.match(digest, /^[A-Za-z0-9_-]{43}$/, 'HMAC-SHA256, base64url')
  t.equal(box.digest('sign_in_code', value), digest, 'deterministic, so it can be looked up')
  t.not(box.digest('reset_password', value), digest, 'bound to its label')
  t.not(createSecretBox(b).digest('sign_in_code', value), digest, 'bound to the secret')
  t.equal(createSecretBox([a]).digest('sign_in_code', value), digest, 'the first secret keys it')
  t.not(box.digest('sign_in_code\u0001', value), box.digest('sign_in_code', `\u0001${value}`))
  t.notMatch(digest, value)
  t.throws(() => box.digest('', value), TypeError)
  t.throws(() => box.digest('a\u0000b', value), TypeError)
})
