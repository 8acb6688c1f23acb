// `pnpm start`: the team's app with Breakwater. DATABASE_URL=postgres://… for PostgreSQL
// (with BREAKWATER_SECRET); unset, an embedded PGlite in DATA_DIR (default ./.data).
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startApp } from './app.js'
import { openTeamDatabase } from './db/connect.js'

/** The embedded database's key-encryption secret, made once and kept beside it (0600). */
function secretIn(dir: string): string {
  const file = path.join(dir, 'secret')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  return readFileSync(file, 'utf8').trim()
}

const url = process.env.DATABASE_URL
const dataDir = path.resolve(process.env.DATA_DIR ?? '.data')
// Required with PostgreSQL (Breakwater refuses to start without it, in one line).
const secret = process.env.BREAKWATER_SECRET || (url ? undefined : secretIn(dataDir))
const team = await openTeamDatabase(url ? { url } : { dataDir: path.join(dataDir, 'pglite') })
const app = await startApp({
  team,
  secret,
  apiPort: Number(process.env.PORT ?? 3000),
  webPort: Number(process.env.WEB_PORT ?? 5173),
  logger: { level: process.env.LOG_LEVEL ?? 'warn' },
}).catch(async (error: unknown) => {
  await team.close()
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})

console.log(`api listening on ${app.trpcUrl}`)
console.log(`single-page app on ${app.webOrigin}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => team.close())
  })
}
