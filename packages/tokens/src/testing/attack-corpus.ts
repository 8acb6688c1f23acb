import { createHmac, sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { TokenErrorReason } from '../errors.js'
import type { SigningKey } from '../keys/signing-key.js'

/** One hostile or broken token and the verdict a verifier must give it. */
export interface AttackCase {
  name: string
  token: string
  reason: TokenErrorReason
}

export interface AttackCorpusOptions {
  /** A genuine published key of the verifier under attack (its private half signs the claim-level cases). */
  key: SigningKey
  issuer: string
  audience: string
  /** The verifier's clock, in seconds since the epoch. */
  now: number
  clockLeeway?: number
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

function rawSign(alg: string, key: KeyObject, input: string): Buffer {
  return cryptoSign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), {
    key,
    dsaEncoding: 'ieee-p1363',
  })
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Another spelling of the same bytes: `segment` with the unused low bits of its last
 * character set to `bits` (masked to the 4 or 2 bits a segment of that length leaves
 * unused). Lenient decoders read it as the original; SPEC §4 makes it TOKEN_INVALID.
 */
export function respellBase64url(segment: string, bits = 1): string {
  const unused = segment.length % 4 === 2 ? 0x0f : segment.length % 4 === 3 ? 0x03 : 0
  const masked = bits & unused
  if (masked === 0) throw new TypeError('no unused bits to set in this segment')
  const value = ALPHABET.indexOf(segment.at(-1) ?? '')
  return `${segment.slice(0, -1)}${ALPHABET[value | masked]}`
}

/** JSON with trailing spaces (still valid JSON) so its base64url leaves 4 bits unused. */
function withUnusedBits(value: Record<string, unknown>): string {
  let json = JSON.stringify(value)
  while (Buffer.byteLength(json) % 3 !== 1) json += ' '
  return json
}

/** Builds a compact JWS from any header and payload, signed by `signer` (or unsigned). */
export function forgeJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  signer?: (input: string) => Buffer,
): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${signer ? signer(input).toString('base64url') : ''}`
}

/**
 * The JWT attack corpus every verifier of Breakwater tokens must refuse: alg
 * confusion, key injection, forged and edited signatures, claim abuse, and
 * garbage. Exported so the server's tests replay it over HTTP too.
 */
export function buildAttackCorpus(options: AttackCorpusOptions): AttackCase[] {
  const { key, issuer, audience, now } = options
  const leeway = options.clockLeeway ?? 5
  const realKid = key.kid
  const header = { alg: key.alg, typ: 'at+jwt', kid: realKid }
  const claims = {
    iss: issuer,
    aud: audience,
    sub: 'user-1',
    sid: 'session-1',
    jti: 'jti-1',
    iat: now,
    exp: now + 900,
  }
  const realSign = (input: string) => rawSign(key.alg, key.privateKey, input)
  const attacker =
    key.alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const attackerSign = (input: string) => rawSign(key.alg, attacker.privateKey, input)
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' })
  const genuine = forgeJws(header, claims, realSign)
  const [gh, gp, gs] = genuine.split('.') as [string, string, string]

  const cases: AttackCase[] = []
  const add = (name: string, token: string, reason: TokenErrorReason = 'TOKEN_INVALID') =>
    cases.push({ name, token, reason })

  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    add(`alg ${alg}, empty signature`, forgeJws({ ...header, alg }, claims))
    add(`alg ${alg}, genuine signature kept`, `${b64({ ...header, alg })}.${gp}.${gs}`)
  }

  const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const publicDer = key.publicKey.export({ format: 'der', type: 'spki' })
  const rawPublic = Buffer.from(key.publicJwk.x, 'base64url')
  const hmacSecrets: Array<[string, Buffer | string]> = [
    ['public JWK JSON', JSON.stringify(key.publicJwk)],
    ['raw public key bytes', rawPublic],
    ['public key PEM', publicPem],
    ['public key DER', publicDer],
    ['public JWK x', key.publicJwk.x],
  ]
  for (const [what, secret] of hmacSecrets) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const hash = `sha${alg.slice(2)}`
      add(
        `${alg} keyed with the ${what}`,
        forgeJws({ ...header, alg }, claims, (input) =>
          createHmac(hash, secret).update(input).digest(),
        ),
      )
    }
  }

  add(
    'embedded jwk header with the attacker key',
    forgeJws({ ...header, jwk: attackerJwk }, claims, attackerSign),
  )
  add(
    'embedded jwk header, no kid',
    forgeJws({ alg: key.alg, typ: 'at+jwt', jwk: attackerJwk }, claims, attackerSign),
  )
  add(
    'jku header (never fetched)',
    forgeJws({ ...header, jku: 'http://127.0.0.1:9/jwks.json' }, claims, attackerSign),
  )
  add(
    'x5u header (never fetched)',
    forgeJws({ ...header, x5u: 'http://127.0.0.1:9/cert.pem' }, claims, attackerSign),
  )
  add('x5c header', forgeJws({ ...header, x5c: ['MIIB'] }, claims, attackerSign))
  add(
    'jku header on a genuinely signed token',
    forgeJws({ ...header, jku: 'http://127.0.0.1:9/jwks.json' }, claims, realSign),
  )

  for (const kid of [
    '../../../../etc/passwd',
    '/dev/null',
    "' OR '1'='1",
    '1; DROP TABLE signing_keys;--',
    'kid\u0000',
    '',
    'x'.repeat(10_000),
  ]) {
    add(
      `hostile kid ${JSON.stringify(kid.slice(0, 30))}`,
      forgeJws({ ...header, kid }, claims, attackerSign),
    )
  }
  add('kid is a number', forgeJws({ ...header, kid: 1 }, claims, realSign))
  add('no kid', forgeJws({ alg: key.alg, typ: 'at+jwt' }, claims, realSign))
  add('unknown kid', forgeJws({ ...header, kid: 'attacker-kid' }, claims, attackerSign))
  add('attacker key under the real kid', forgeJws(header, claims, attackerSign))
  add(
    'alg switched to the other curve',
    forgeJws({ ...header, alg: key.alg === 'EdDSA' ? 'ES256' : 'EdDSA' }, claims, realSign),
  )

  add('payload edited, original signature', `${gh}.${b64({ ...claims, sub: 'admin' })}.${gs}`)
  add('header edited, original signature', `${b64({ ...header, extra: 1 })}.${gp}.${gs}`)
  add('signature stripped', `${gh}.${gp}.`)
  add('signature segment missing', `${gh}.${gp}`)
  const flipped = Buffer.from(gs, 'base64url')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  add('signature bit flipped', `${gh}.${gp}.${flipped.toString('base64url')}`)
  add(
    'all-zero signature (r = s = 0 for ES256)',
    `${gh}.${gp}.${Buffer.alloc(64).toString('base64url')}`,
  )
  add('all-ones signature', `${gh}.${gp}.${Buffer.alloc(64, 0xff).toString('base64url')}`)
  add('signature truncated', `${gh}.${gp}.${gs.slice(0, 40)}`)
  add('signature padded', `${gh}.${gp}.${gs}AAAA`)
  add('signature not base64url', `${gh}.${gp}.${gs.slice(0, -2)}+/`)
  add('signature with = padding', `${gh}.${gp}.${gs}==`)
  // Same signature bytes, another spelling: a lenient decoder accepts these as genuine.
  for (const bits of [1, 8, 15]) {
    add(
      `signature spelled with non-zero trailing bits (${bits})`,
      `${gh}.${gp}.${respellBase64url(gs, bits)}`,
    )
  }
  // Signed over the odd spelling itself, so only the canonical-encoding check stands
  // between these and acceptance.
  const spelled = (h: string, p: string) =>
    `${h}.${p}.${realSign(`${h}.${p}`).toString('base64url')}`
  const oddHeader = b64(withUnusedBits(header))
  const oddPayload = b64(withUnusedBits(claims))
  add(
    'header spelled with non-zero trailing bits, signed as spelled',
    spelled(respellBase64url(oddHeader), oddPayload),
  )
  add(
    'payload spelled with non-zero trailing bits, signed as spelled',
    spelled(oddHeader, respellBase64url(oddPayload)),
  )

  add('typ JWT', forgeJws({ ...header, typ: 'JWT' }, claims, realSign))
  add('typ missing', forgeJws({ alg: key.alg, kid: realKid }, claims, realSign))
  add('typ refresh+jwt', forgeJws({ ...header, typ: 'rt+jwt' }, claims, realSign))
  add('wrong issuer', forgeJws(header, { ...claims, iss: 'https://evil.example' }, realSign))
  add('wrong audience', forgeJws(header, { ...claims, aud: 'other-service' }, realSign))
  add('audience list without ours', forgeJws(header, { ...claims, aud: ['a', 'b'] }, realSign))
  for (const claim of ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp'] as const) {
    const { [claim]: _removed, ...rest } = claims
    add(`claim ${claim} missing`, forgeJws(header, rest, realSign))
  }
  add('sub is a number', forgeJws(header, { ...claims, sub: 42 }, realSign))
  add('exp is a string', forgeJws(header, { ...claims, exp: String(claims.exp) }, realSign))
  add('exp is fractional', forgeJws(header, { ...claims, exp: claims.exp + 0.5 }, realSign))
  add('exp before iat', forgeJws(header, { ...claims, exp: now - 1, iat: now }, realSign))
  add(
    'iat in the future',
    forgeJws(header, { ...claims, iat: now + leeway + 60, exp: now + 1000 }, realSign),
  )
  add('nbf in the future', forgeJws(header, { ...claims, nbf: now + leeway + 60 }, realSign))
  add('nbf is a string', forgeJws(header, { ...claims, nbf: 'later' }, realSign))
  add('auth_time is a string', forgeJws(header, { ...claims, auth_time: 'today' }, realSign))
  add('auth_time is negative', forgeJws(header, { ...claims, auth_time: -1 }, realSign))
  add('amr is a string', forgeJws(header, { ...claims, amr: 'pwd' }, realSign))
  add('amr is empty', forgeJws(header, { ...claims, amr: [] }, realSign))
  add('amr holds a number', forgeJws(header, { ...claims, amr: ['pwd', 1] }, realSign))
  add('amr is huge', forgeJws(header, { ...claims, amr: Array(100).fill('otp') }, realSign))
  add('crit header', forgeJws({ ...header, crit: ['exp'], exp: now + 10 }, claims, realSign))
  add('b64 false header', forgeJws({ ...header, b64: false, crit: ['b64'] }, claims, realSign))
  add('payload is an array', forgeJws(header, '[1,2,3]', realSign))
  add('payload is not JSON', forgeJws(header, 'not json', realSign))
  add('header is not JSON', `${b64('not json')}.${gp}.${gs}`)

  add(
    'JWE-shaped (five parts)',
    `${b64({ alg: 'dir', enc: 'A256GCM' })}..${b64('iv')}.${b64('ct')}.${b64('tag')}`,
  )
  add('JWE header on three parts', forgeJws({ ...header, enc: 'A256GCM' }, claims, realSign))
  for (const garbage of [
    '',
    ' ',
    '.',
    '..',
    '...',
    'abc',
    'a.b.c',
    'Bearer x',
    '\u0000\u0000',
    '🦀.🦀.🦀',
    `${genuine} `,
    ` ${genuine}`,
  ]) {
    add(`garbage ${JSON.stringify(garbage.slice(0, 20))}`, garbage)
  }
  add('100 KB token', forgeJws(header, { ...claims, pad: 'x'.repeat(100_000) }, realSign))
  add(
    'expired beyond the leeway',
    forgeJws(header, { ...claims, iat: now - 1000, exp: now - leeway - 1 }, realSign),
    'TOKEN_EXPIRED',
  )
  return cases
}
