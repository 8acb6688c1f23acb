// `breakwater keys rotate`: one signing-key rotation against the configured database.
import { createDatabase, DatabaseError } from '@breakwater/db'
import { rotateSigningKeys } from '@breakwater/server'
import { ConfigError, loadConfig } from './config.js'

const [command] = process.argv.slice(2)
if (command !== 'rotate') {
  process.stderr.write('usage: breakwater keys rotate\n')
  process.exit(2)
}
try {
  const config = loadConfig()
  const database = await createDatabase(
    config.databaseUrl,
    config.dataDir ? { dataDir: config.dataDir, revocationSync: 'off' } : { revocationSync: 'off' },
  )
  try {
    // A retired key stays published while any token it signed can live:
    // access lifetime + leeway + the instances' key reload interval (30 s).
    const result = await rotateSigningKeys({
      database,
      alg: 'EdDSA',
      retireAfterSeconds: config.accessTokenTtl + config.clockLeeway + 30,
    })
    process.stdout.write(
      `signing key ${result.activated} is active; ${result.published} is published for the next rotation\n`,
    )
    if (result.deleted.length)
      process.stdout.write(`removed expired keys: ${result.deleted.join(', ')}\n`)
  } finally {
    await database.close()
  }
} catch (error) {
  if (error instanceof ConfigError) {
    for (const line of error.problems) process.stderr.write(`breakwater: ${line}\n`)
    process.exit(1)
  }
  if (error instanceof DatabaseError) {
    process.stderr.write(`breakwater: database: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}
