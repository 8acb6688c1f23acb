// A team's Fastify app with Breakwater: `npm start` (PORT=0 picks a free port).
import { createDatabase } from '@breakwater/db'
import { breakwater } from '@breakwater/server'
import Fastify from 'fastify'
import { appRouter } from './router.js'

// DATABASE_URL=postgres://… in production; unset, an embedded PGlite in BREAKWATER_DATA_DIR
// (default ./.breakwater). Migrations run here.
const database = await createDatabase(process.env.DATABASE_URL)
const app = Fastify()
app.addHook('onClose', () => database.close())

await app.register(breakwater, {
  database,
  router: appRouter,
  // Seals the signing keys at rest; required with PostgreSQL, kept in the data directory
  // on the embedded database when unset.
  secret: process.env.BREAKWATER_SECRET,
  // Two-second access tokens so that client.ts sees one expire; use the default 15m.
  accessTokenTtl: 2,
  clockLeeway: 0,
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
console.log(`listening on ${address}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close())
}
