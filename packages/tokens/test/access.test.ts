import { sign as cryptoSign } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  generateSigningKey,
  KeySet,
  TokenError,
  verifyAccessToken,
} from '../src/index.js'
import { buildAttackCorpus, forgeJws, respellBase64url } from '../src/testing.js'
import { AUDIENCE, ISSUER, setup } from './helpers.js'

for (const alg of ['EdDSA', 'ES256'] as const) {
  t.test(`${alg}: sign and verify round trip`, async (t) => {
    const { signer, verifier, clock, key } = await setup(alg)
    const signed = await signer.sign({ sub: 'user-1', sid: 'session-1' })
    const [headerSegment] = signed.token.split('.')
    t.same(JSON.parse(Buffer.from(headerSegment!, 'base64url').toString()), {
      alg,
      typ: 'at+jwt',
      kid: key.kid,
    })
    const claims = verifier.verify(signed.token)
    t.same(claims, signed.claims)
    t.equal(claims.iss, ISSUER)
    t.equal(claims.aud, AUDIENCE)
    t.equal(claims.iat, clock.seconds())
    t.equal(claims.exp, claims.iat + 900, 'exp = iat + lifetime exactly')
    t.equal(signed.expiresAt.getTime(), claims.exp * 1000)
    t.match(claims.jti, /^[0-9a-f-]{36}$/)
    const again = await signer.sign({ sub: 'user-1', sid: 'session-1' })
    t.not(again.claims.jti, claims.jti, 'every token has its own jti')
  })

  t.test(`${alg}: the attack corpus is refused with the right reason`, async (t) => {
    const { verifier, key, clock } = await setup(alg)
    const corpus = buildAttackCorpus({
      key,
      issuer: ISSUER,
      audience: AUDIENCE,
      now: clock.seconds(),
    })
    t.ok(corpus.length > 80, `${corpus.length} cases`)
    for (const { name, token, reason } of corpus) {
      try {
        verifier.verify(token)
        t.fail(`${name}: accepted`)
      } catch (error) {
        t.ok(error instanceof TokenError, `${name}: a TokenError`)
        t.equal((error as TokenError).reason, reason, name)
      }
    }
  })

  t.test(`${alg}: expiry and leeway`, async (t) => {
    const { signer, verifier, clock } = await setup(alg)
    const { token } = await signer.sign({ sub: 'u', sid: 's' })
    clock.advance(900 + 4)
    t.equal(verifier.verify(token).sub, 'u', 'within the 5 s leeway')
    clock.advance(1)
    t.throws(() => verifier.verify(token), { name: 'TokenExpiredError', reason: 'TOKEN_EXPIRED' })
    t.equal(verifier.verify(token, { allowExpired: true }).sid, 's', 'allowExpired still verifies')
    t.throws(() => verifier.verify(`${token}x`, { allowExpired: true }), {
      reason: 'TOKEN_INVALID',
      message: /./,
    })
  })
}

t.test('an expired token with a wrong issuer is invalid, not expired', async (t) => {
  const { key, verifier, clock } = await setup()
  const now = clock.seconds()
  const sign = (input: string) => cryptoSign(null, Buffer.from(input), key.privateKey)
  const token = forgeJws(
    { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid },
    {
      iss: 'https://evil',
      aud: AUDIENCE,
      sub: 'u',
      sid: 's',
      jti: 'j',
      iat: now - 2000,
      exp: now - 1000,
    },
    sign,
  )
  t.throws(() => verifier.verify(token), {
    reason: 'TOKEN_INVALID',
    message: 'issuer does not match',
  })
})
t.test('typ application/at+jwt is the same media type', async (t) => {
  const { key, verifier, clock } = await setup()
  const now = clock.seconds()
  const token = forgeJws(
    { alg: 'EdDSA', typ: 'application/AT+JWT', kid: key.kid },
    {
      iss: ISSUER,
      aud: [AUDIENCE, 'other'],
      sub: 'u',
      sid: 's',
      jti: 'j',
      iat: now,
      exp: now + 60,
    },
    (input) => cryptoSign(null, Buffer.from(input), key.privateKey),
  )
  t.equal(verifier.verify(token).aud, AUDIENCE)
})

t.test('a token from another issuer configuration does not cross over', async (t) => {
  const a = await setup()
  const other = createAccessTokenVerifier({
    issuer: ISSUER,
    audience: 'billing',
    keys: a.keys,
    clock: a.clock,
  })
  const { token } = await a.signer.sign({ sub: 'u', sid: 's' })
  t.throws(() => other.verify(token), {
    reason: 'TOKEN_INVALID',
    message: 'audience does not match',
  })
  const unrelated = KeySet.from([await generateSigningKey({ state: 'active' })])
  t.throws(
    () =>
      verifyAccessToken(token, {
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: unrelated,
        clock: a.clock,
      }),
    {
      reason: 'TOKEN_INVALID',
      message: /./,
    },
  )
})

t.test('options are checked once, at creation, with TypeError', async (t) => {
  const { keys } = await setup()
  const base = { issuer: ISSUER, audience: AUDIENCE, keys }
  t.throws(() => createAccessTokenVerifier({ ...base, clockLeeway: '31s' }), {
    name: 'TypeError',
    message: /at most 30s/,
  })
  t.throws(() => createAccessTokenVerifier({ ...base, clockLeeway: '1m' }), TypeError)
  t.throws(() => createAccessTokenVerifier({ ...base, issuer: '' }), { message: /issuer/ })
  t.throws(
    () => createAccessTokenVerifier({ ...base, audience: undefined as unknown as string }),
    /audience/,
  )
  t.throws(() => createAccessTokenVerifier({ ...base, keys: {} as never }), /verificationKey/)
  t.throws(() => createAccessTokenVerifier({ ...base, maxTokenLength: 3 }), /maxTokenLength/)
  t.throws(() => createAccessTokenSigner({ ...base, ttl: '0s' }), /ttl/)
  t.throws(() => createAccessTokenSigner({ ...base, ttl: 'forever' }), /ttl/)
  t.throws(() => createAccessTokenSigner({ ...base, keys: {} as never }), /signingKey/)
  await t.rejects(createAccessTokenSigner(base).sign({ sub: '', sid: 's' }), TypeError)
  t.equal(createAccessTokenVerifier({ ...base, clockLeeway: 30 }).verify !== undefined, true)
})

t.test('arbitrary input never throws anything but a TokenError', async (t) => {
  const { verifier, signer } = await setup()
  const { token } = await signer.sign({ sub: 'u', sid: 's' })
  const [h, p, s] = token.split('.') as [string, string, string]
  const check = (input: unknown) => {
    try {
      verifier.verify(input)
      return false
    } catch (error) {
      return error instanceof TokenError && error.reason === 'TOKEN_INVALID'
    }
  }
  fc.assert(fc.property(fc.string({ maxLength: 600 }), check), { numRuns: 2000 })
  fc.assert(
    fc.property(fc.anything(), (value) => typeof value === 'string' || check(value)),
    { numRuns: 500 },
  )
  // Three segments, each arbitrary base64url-ish or JSON: the parser's deeper paths.
  const segment = fc.oneof(
    fc.string(),
    fc.json().map((json) => Buffer.from(json).toString('base64url')),
    fc.constantFrom(h, p, s),
  )
  fc.assert(
    fc.property(
      segment,
      segment,
      segment,
      (a, b, c) => `${a}.${b}.${c}` === token || check(`${a}.${b}.${c}`),
    ),
    { numRuns: 3000 },
  )
  t.pass('3 properties held')
})

t.test(
  'exp never passes the session end (notAfter), and a session that ended gets no token',
  async (t) => {
    const { signer, verifier, clock } = await setup()
    const now = clock.seconds()
    const capped = await signer.sign({
      sub: 'u',
      sid: 's',
      notAfter: new Date((now + 60) * 1000 + 999),
    })
    t.equal(capped.claims.exp, now + 60, 'capped at the session end, floored to a second')
    t.equal(capped.expiresAt.getTime(), (now + 60) * 1000)
    t.equal(verifier.verify(capped.token).exp, now + 60)
    clock.advance(60 + 5)
    t.throws(() => verifier.verify(capped.token), { reason: 'TOKEN_EXPIRED', message: /./ })

    const later = await signer.sign({ sub: 'u', sid: 's', notAfter: clock.seconds() + 86_400 })
    t.equal(later.claims.exp, later.claims.iat + 900, 'a later session end leaves iat + ttl')
    const seconds = await signer.sign({ sub: 'u', sid: 's', notAfter: clock.seconds() + 1 })
    t.equal(seconds.claims.exp, seconds.claims.iat + 1, 'epoch seconds work too')

    for (const ended of [clock.seconds(), clock.seconds() - 1, new Date(clock() + 999), 0]) {
      await t.rejects(
        signer.sign({ sub: 'u', sid: 's', notAfter: ended }),
        { name: 'TypeError', message: /session has ended/ },
        `notAfter ${String(ended)}`,
      )
    }
    for (const bad of [Number.NaN, new Date('nope'), -5, '2030-01-01' as unknown as number]) {
      await t.rejects(signer.sign({ sub: 'u', sid: 's', notAfter: bad }), {
        name: 'TypeError',
        message: /notAfter/,
      })
    }
  },
)

t.test('auth_time and amr pass through sign and verify, and only when given', async (t) => {
  const { signer, verifier, clock } = await setup()
  const plain = await signer.sign({ sub: 'u', sid: 's' })
  const claims = verifier.verify(plain.token)
  t.notOk('auth_time' in claims || 'amr' in claims, 'absent when not given')
  t.notMatch(Buffer.from(plain.token.split('.')[1]!, 'base64url').toString(), /auth_time|amr/)

  const authTime = clock.seconds() - 30
  const strong = await signer.sign({
    sub: 'u',
    sid: 's',
    authTime: new Date(authTime * 1000 + 500),
    amr: ['pwd', 'otp'],
  })
  t.equal(strong.claims.auth_time, authTime)
  t.same(strong.claims.amr, ['pwd', 'otp'])
  t.same(verifier.verify(strong.token), strong.claims, 'verify returns them')
  t.equal(
    verifier.verify((await signer.sign({ sub: 'u', sid: 's', authTime })).token).auth_time,
    authTime,
  )

  for (const amr of [[], [''], ['x'.repeat(33)], Array(9).fill('pwd'), 'pwd', [1]]) {
    await t.rejects(
      signer.sign({ sub: 'u', sid: 's', amr: amr as string[] }),
      { name: 'TypeError', message: /amr/ },
      JSON.stringify(amr).slice(0, 30),
    )
  }
  await t.rejects(signer.sign({ sub: 'u', sid: 's', authTime: -1 }), /authTime/)
})

t.test('every non-canonical spelling of a genuine signature is TOKEN_INVALID', async (t) => {
  const { signer, verifier } = await setup()
  const { token } = await signer.sign({ sub: 'u', sid: 's' })
  const dot = token.lastIndexOf('.')
  const signature = token.slice(dot + 1)
  t.equal(signature.length, 86, 'a 64-byte signature is 86 characters, 4 bits unused')
  t.match(signature.at(-1)!, /^[AQgw]$/, 'so its last character is one of A, Q, g, w')
  for (let bits = 1; bits < 16; bits++) {
    const respelled = respellBase64url(signature, bits)
    t.same(
      Buffer.from(respelled, 'base64url'),
      Buffer.from(signature, 'base64url'),
      `${respelled.at(-1)} decodes to the same bytes`,
    )
    t.throws(() => verifier.verify(`${token.slice(0, dot + 1)}${respelled}`), {
      reason: 'TOKEN_INVALID',
      message: 'signature is not canonical base64url',
    })
  }
  t.throws(() => verifier.verify(`${token}=`), { reason: 'TOKEN_INVALID', message: /./ })
  t.equal(verifier.verify(token).sub, 'u', 'the canonical spelling still verifies')
})

t.test(
  'the canonical check agrees with re-encoding, for every length and last character',
  async (t) => {
    const { isCanonicalBase64url } = await import('../src/internal/base64url.js')
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    let checked = 0
    for (let length = 1; length <= 70; length++) {
      const base = Buffer.alloc(length, 0xa5).toString('base64url')
      for (const last of alphabet) {
        const text = `${base.slice(0, -1)}${last}`
        const canonical = Buffer.from(text, 'base64url').toString('base64url') === text
        if (isCanonicalBase64url(text) !== canonical) t.fail(`${text} (${length} bytes)`)
        checked++
      }
    }
    for (const bad of ['', 'A', 'AAAAA', 'AA==', 'A+', 'A/', 'é'])
      t.notOk(isCanonicalBase64url(bad), bad)
    t.pass(`${checked} spellings checked`)
  },
)
