// A Node client of the team's API through @breakwater/client (bearer tokens):
// `pnpm client [http://127.0.0.1:3000/api]`. Prints one JSON line at the end.
import { randomUUID } from 'node:crypto'
import { createBreakwaterClient, memoryTokenStore } from '@breakwater/client'
import superjson from 'superjson'
import type { AppRouter } from './router.js'

const trpcUrl = process.argv[2] ?? 'http://127.0.0.1:3000/api'
const store = memoryTokenStore()
const client = createBreakwaterClient<AppRouter>({
  url: trpcUrl,
  transport: 'bearer',
  store,
  namespace: 'account', // Breakwater's procedures sit under the team router's `account` key
  transformer: superjson, // as the team's initTRPC.create({ transformer })
})

const email = `grace-${randomUUID()}@example.com`
await client.account.auth.register.mutate({
  email,
  password: 'a sturdy passphrase 42',
  company: 'Hopper & Co',
})
const { user } = await client.account.auth.me.query()
console.log('signed in as', user.email, 'of', user.company)

const profile = await client.profile.mine.query()
console.log('profile since', profile.created_at.toISOString()) // a Date, thanks to superjson

// The plain route takes the same access token.
const tokens = await store.get()
const download = await fetch(new URL('/files/report.txt', trpcUrl), {
  headers: { authorization: `Bearer ${tokens?.accessToken}` },
})
const file = await download.text()
console.log('download:', download.status, file.trim())

await client.account.auth.logout.mutate()
console.log(
  JSON.stringify({ email: user.email, company: user.company, download: download.status, file }),
)
