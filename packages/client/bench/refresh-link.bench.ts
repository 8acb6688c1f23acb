/**
 * Client-side cost of the refresh link: 10 000 calls to a local server through
 * `createBreakwaterClient` (refresh link + bearer headers) versus a plain
 * `httpLink` with a fixed Authorization header. Rounds alternate so drift on a
 * shared machine hits both sides; the figure is throughput(refresh) ÷ throughput(plain).
 *
 * Run: pnpm bench (tsx bench/refresh-link.bench.ts). Goal: ≥ 0.95.
 */
import { openTestDatabase } from '@breakwater/db/testing'
import {
  breakwater,
  breakwaterRouter,
  mergeRouters,
  protectedProcedure,
  router,
} from '@breakwater/server'
import { createTRPCClient, httpLink } from '@trpc/client'
import Fastify from 'fastify'
import { createBreakwaterClient, memoryTokenStore } from '../src/index.js'

const CALLS = 10_000
const ROUNDS = 20
const CONCURRENCY = 8
const PASSWORD = 'a sturdy passphrase 42'

// A protected procedure that does no I/O: the server verifies the token and answers.
const appRouter = mergeRouters(
  breakwaterRouter,
  router({ ping: protectedProcedure.query(() => 'pong') }),
)
type AppRouter = typeof appRouter

const database = await openTestDatabase('pglite')
const app = Fastify({ logger: false })
await app.register(breakwater, { database, router: appRouter })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/trpc`

const store = memoryTokenStore()
const withRefresh = createBreakwaterClient<AppRouter>({ url, transport: 'bearer', store })
await withRefresh.auth.register.mutate({
  email: `bench.${process.pid}@example.com`,
  password: PASSWORD,
})
const token = (await store.get())!.accessToken
const plain = createTRPCClient<AppRouter>({
  links: [httpLink({ url, headers: { authorization: `Bearer ${token}` } })],
})

async function round(call: () => Promise<unknown>, calls: number): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) await call()
    }),
  )
  return Number(process.hrtime.bigint() - start) / 1e6
}

// Warm both paths (JIT, keep-alive sockets, the server's verified-token cache).
await round(() => plain.ping.query(), 500)
await round(() => withRefresh.ping.query(), 500)

let plainMs = 0
let refreshMs = 0
const perRound = CALLS / ROUNDS
for (let i = 0; i < ROUNDS; i++) {
  if (i % 2 === 0) {
    plainMs += await round(() => plain.ping.query(), perRound)
    refreshMs += await round(() => withRefresh.ping.query(), perRound)
  } else {
    refreshMs += await round(() => withRefresh.ping.query(), perRound)
    plainMs += await round(() => plain.ping.query(), perRound)
  }
}

const plainRate = (CALLS / plainMs) * 1000
const refreshRate = (CALLS / refreshMs) * 1000
console.log(`calls per side: ${CALLS} (${ROUNDS} alternating rounds, ${CONCURRENCY} in flight)`)
console.log(
  `plain httpLink:          ${plainRate.toFixed(0)} calls/s (${((plainMs * 1000) / CALLS).toFixed(1)} µs/call)`,
)
console.log(
  `refresh link + bearer:   ${refreshRate.toFixed(0)} calls/s (${((refreshMs * 1000) / CALLS).toFixed(1)} µs/call)`,
)
console.log(`ratio (refresh ÷ plain): ${(refreshRate / plainRate).toFixed(3)} (goal ≥ 0.95)`)

await app.close()
await database.close()
