import { DatabaseError } from '@breakwater/db'
import { BreakwaterSetupError } from '@breakwater/server'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { closeOnSignals } from './shutdown.js'

function fail(lines: readonly string[]): never {
  for (const line of lines) process.stderr.write(`breakwater: ${line}\n`)
  process.exit(1)
}

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) fail(error.problems)
  throw error
}

let built: Awaited<ReturnType<typeof buildApp>>
try {
  built = await buildApp(config)
} catch (error) {
  // Only typed, secret-free messages reach the terminal; anything else is a bug worth its stack.
  if (error instanceof DatabaseError) fail([`database: ${error.message}`])
  if (error instanceof BreakwaterSetupError) fail([error.message])
  throw error
}
const { app, database } = built
closeOnSignals(app)
try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  await app.close()
  fail([
    `cannot listen on ${config.host}:${config.port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
  ])
}
app.log.info({ database: database.kind, location: database.location }, 'breakwater ready')
