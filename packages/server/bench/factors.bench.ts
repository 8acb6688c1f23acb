// pnpm bench (second part): what the strong factors cost a user, end to end over HTTP,
// one request at a time (latency, not throughput): a TOTP code checked by
// auth.reauthenticate against the password checked by the same procedure, and a
// passkey sign-in (options + assertion: two round trips) against a password login.

import { openTestDatabase } from '@breakwater/db/testing'
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateHOTP } from '@oslojs/otp'
import Fastify from 'fastify'
import {
  breakwater,
  breakwaterRouter,
  mergeRouters,
  protectedProcedure,
  router,
} from '../src/index.js'
import { SoftwareAuthenticator } from '../test/webauthn-authenticator.js'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60)

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function timed(run: () => Promise<void>): Promise<number> {
  const start = performance.now()
  await run()
  return performance.now() - start
}

const database = await openTestDatabase(
  process.env.BENCH_DIALECT === 'pglite' ? 'pglite' : 'postgres',
)
// Each TOTP sample needs a step not used yet: the server's clock moves 30 s per sample.
let offset = 0
const app = Fastify({ logger: false })
await app.register(breakwater, {
  database,
  router: mergeRouters(
    breakwaterRouter,
    router({ bench: router({ authed: protectedProcedure.query(() => ({ ok: true })) }) }),
  ),
  clock: () => Date.now() + offset,
  accessTokenTtl: '1d',
  stepUpMaxAge: '7d',
  loginIpLimit: '100000/1m',
  loginAccountLimit: '100000/1m',
  secret: Buffer.alloc(32, 9).toString('base64url'),
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : 0
const url = `http://127.0.0.1:${port}`
const origin = `http://localhost:${port}`

async function call<T>(path: string, input?: unknown, token?: string, method = 'POST'): Promise<T> {
  const response = await fetch(`${url}/trpc/${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      origin,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(method === 'POST' && input !== undefined ? { body: JSON.stringify(input) } : {}),
  })
  const body = (await response.json()) as { result?: { data: T }; error?: unknown }
  if (!body.result) throw new Error(`${path}: ${response.status} ${JSON.stringify(body.error)}`)
  return body.result.data
}

try {
  const email = 'bench-factors@example.com'
  const password = 'a sturdy bench passphrase'
  const signedUp = await call<{ tokens: { accessToken: string } }>('auth.register', {
    email,
    password,
    transport: 'bearer',
  })
  const token = signedUp.tokens.accessToken
  const { secret } = await call<{ secret: string }>('mfa.totp.enroll', undefined, token)
  const seed = decodeBase32IgnorePadding(secret)
  const code = () => generateHOTP(seed, BigInt(Math.floor((Date.now() + offset) / 1000 / 30)), 6)
  await call('mfa.totp.confirm', { code: code() }, token)

  const authenticator = new SoftwareAuthenticator({ counter: 'incrementing' })
  const creation = await call<Parameters<SoftwareAuthenticator['register']>[0]>(
    'passkeys.registrationOptions',
    undefined,
    token,
  )
  await call('passkeys.register', { response: authenticator.register(creation, origin) }, token)

  const baseline: number[] = []
  const totp: number[] = []
  const passwordReauth: number[] = []
  const passkeySignIn: number[] = []
  const passwordLogin: number[] = []
  // Alternating, so drift on a shared machine hits every side alike.
  for (let i = 0; i < SAMPLES; i++) {
    baseline.push(await timed(() => call('bench.authed', undefined, token, 'GET')))
    offset += 30_000
    totp.push(await timed(() => call('auth.reauthenticate', { code: code() }, token)))
    passwordReauth.push(await timed(() => call('auth.reauthenticate', { password }, token)))
    passkeySignIn.push(
      await timed(async () => {
        const options =
          await call<Parameters<SoftwareAuthenticator['authenticate']>[0]>('auth.passkeyOptions')
        await call('auth.loginWithPasskey', {
          response: authenticator.authenticate(options, origin),
          transport: 'bearer',
        })
      }),
    )
    // The account has TOTP on, so a password login answers with the challenge: the
    // password check is the whole cost, as for any login.
    passwordLogin.push(
      await timed(() => call('auth.login', { email, password, transport: 'bearer' })),
    )
  }
  const rows = [
    ['protected query that reads nothing', baseline],
    ['auth.reauthenticate with a TOTP code', totp],
    ['auth.reauthenticate with the password', passwordReauth],
    ['passkey sign-in (options + assertion)', passkeySignIn],
    ['password login (argon2id)', passwordLogin],
  ] as const
  console.log(
    `@breakwater/server factors — ${process.env.BENCH_DIALECT === 'pglite' ? 'PGlite' : 'PostgreSQL'}, ${SAMPLES} sequential samples each, alternating`,
  )
  console.log('scenario                                   p50 ms   p99 ms')
  for (const [name, samples] of rows)
    console.log(
      `${name.padEnd(42)} ${percentile(samples, 50).toFixed(1).padStart(6)}  ${percentile(samples, 99).toFixed(1).padStart(7)}`,
    )
  const p50 = (samples: number[]) => percentile(samples, 50)
  console.log(
    `TOTP check ÷ protected query: ${(p50(totp) / p50(baseline)).toFixed(2)}; TOTP ÷ password: ${(p50(totp) / p50(passwordReauth)).toFixed(2)}`,
  )
  console.log(
    `passkey sign-in: 2 round trips; ÷ password login: ${(p50(passkeySignIn) / p50(passwordLogin)).toFixed(2)}`,
  )
} finally {
  await app.close()
  await database.close()
}
