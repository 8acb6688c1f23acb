// pnpm bench: access-token verification vs the raw signature check it cannot beat.
// Each pair is measured in alternating rounds of one run, so machine noise hits both.
import { verify as cryptoVerify } from 'node:crypto'
import { jwtVerify } from 'jose'
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  generateSigningKey,
  KeySet,
  type SigningAlgorithm,
} from '../src/index.js'

const ROUNDS = 6
const ROUND_MS = 400

function opsPerSecond(fn: () => void): number {
  let ops = 0
  const end = performance.now() + ROUND_MS
  const start = performance.now()
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) fn()
    ops += 50
  }
  return (ops * 1000) / (performance.now() - start)
}

async function asyncOpsPerSecond(fn: () => Promise<unknown>): Promise<number> {
  let ops = 0
  const start = performance.now()
  const end = start + ROUND_MS
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await fn()
    ops += 50
  }
  return (ops * 1000) / (performance.now() - start)
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function bench(alg: SigningAlgorithm) {
  const keys = KeySet.from([await generateSigningKey({ alg, state: 'active' })])
  const options = { issuer: 'https://bench.local', audience: 'bench', keys }
  const { token } = await createAccessTokenSigner(options).sign({ sub: 'user', sid: 'session' })
  const verifier = createAccessTokenVerifier(options)
  const key = keys.signingKey()
  const dot = token.lastIndexOf('.')
  const input = Buffer.from(token.slice(0, dot))
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const raw = () => {
    if (!cryptoVerify(digest, input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature))
      throw new Error('raw verify failed')
  }
  const ours = () => verifier.verify(token)
  const jose = () =>
    jwtVerify(token, key.publicKey, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [alg],
      typ: 'at+jwt',
    })

  const results = { raw: [] as number[], ours: [] as number[], jose: [] as number[] }
  opsPerSecond(raw) // warm-up
  opsPerSecond(ours)
  for (let round = 0; round < ROUNDS; round++) {
    results.raw.push(opsPerSecond(raw))
    results.ours.push(opsPerSecond(ours))
    results.jose.push(await asyncOpsPerSecond(jose))
  }
  const raw_ = median(results.raw)
  const ours_ = median(results.ours)
  const jose_ = median(results.jose)
  return { alg, raw: raw_, ours: ours_, jose: jose_, ratio: ours_ / raw_, joseRatio: jose_ / raw_ }
}

const rows = [await bench('EdDSA'), await bench('ES256')]
console.log(
  `verifyAccessToken vs raw node:crypto signature check (median of ${ROUNDS} alternating rounds of ${ROUND_MS} ms)`,
)
console.log('alg     raw ops/s  verifyAccessToken ops/s  ratio  (jose.jwtVerify ops/s  ratio)')
for (const r of rows) {
  console.log(
    `${r.alg.padEnd(6)}  ${r.raw.toFixed(0).padStart(9)}  ${r.ours.toFixed(0).padStart(23)}  ${r.ratio.toFixed(2).padStart(5)}  (${r.jose.toFixed(0).padStart(20)}  ${r.joseRatio.toFixed(2)})`,
  )
}
const worst = Math.min(...rows.map((r) => r.ratio))
console.log(
  `goal ≥ 0.85 of the floor: ${worst >= 0.85 ? 'met' : 'NOT met'} (worst ratio ${worst.toFixed(2)})`,
)
