// Calls the team's procedure through @breakwater/client: `npm run client [url]`.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createBreakwaterClient, memoryTokenStore } from '@breakwater/client'
import type { AppRouter } from './router.js'

const url = `${process.argv[2] ?? 'http://127.0.0.1:3000'}/trpc`
let refreshes = 0
const client = createBreakwaterClient<AppRouter>({
  url,
  transport: 'bearer',
  store: memoryTokenStore(),
  // Only to show that the refresh happens by itself: count the calls to auth.refresh.
  fetch: (input, init) => {
    if (String(input).includes('auth.refresh')) refreshes++
    return fetch(input, init)
  },
})

const email = `ada-${randomUUID()}@example.com`
await client.auth.register.mutate({ email, password: 'a sturdy passphrase 42' })

const before = await client.notes.greet.query({ name: 'Ada' })
console.log('before expiry:', before.greeting)

await sleep(2_500) // the 2 s access token expires; no code here deals with it
const after = await client.notes.greet.query({ name: 'Ada' })
console.log('after expiry:', after.greeting, `(refreshes: ${refreshes})`)

console.log(JSON.stringify({ before: before.greeting, after: after.greeting, refreshes }))
await client.auth.logout.mutate()
