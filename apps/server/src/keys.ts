// `breakwater keys rotate | rewrap`: signing-key maintenance against the configured database.
//   rotate  one rotation: the published pending key signs, the active one retires.
//   rewrap  seals every stored key again under the first BREAKWATER_SECRET ("new,old"),
//           after which the old secret can be dropped.
import { createDatabase, DatabaseError } from '@breakwater/db'
import { rewrapSigningKeys, rotateSigningKeys } from '@breakwater/server'
import { ConfigError, loadConfig } from './config.js'

const USAGE = 'usage: breakwater keys rotate | breakwater keys rewrap\n'

const [command] = process.argv.slice(2)
if (command !== 'rotate' && command !== 'rewrap') {
  process.stderr.write(USAGE)
  process.exit(2)
}
try {
  const config = loadConfig()
  const database = await createDatabase(
    config.databaseUrl,
    config.dataDir ? { dataDir: config.dataDir, revocationSync: 'off' } : { revocationSync: 'off' },
  )
  try {
    if (command === 'rotate') {
      // A retired key stays published while any token it signed can live:
      // access lifetime + leeway + the instances' key reload interval (30 s).
      const result = await rotateSigningKeys({
        database,
        alg: 'EdDSA',
        retireAfterSeconds: config.accessTokenTtl + config.clockLeeway + 30,
        secret: config.secret,
      })
      process.stdout.write(
        `signing key ${result.activated} is active; ${result.published} is published for the next rotation\n`,
      )
      if (result.deleted.length)
        process.stdout.write(`removed expired keys: ${result.deleted.join(', ')}\n`)
    } else {
      // Counts only: never a key, a sealed value or a secret.
      const result = await rewrapSigningKeys({ database, secret: config.secret })
      process.stdout.write(
        `${result.total} signing keys sealed under the first secret: ${result.rewrapped} rewrapped, ` +
          `${result.sealed} sealed from plaintext, ${result.current} already current\n`,
      )
      if (result.skipped > 0) {
        process.stdout.write(`${result.skipped} changed while this ran: run it again\n`)
        process.exitCode = 1
      } else if (config.secret && config.secret.length > 1) {
        process.stdout.write('the older secrets in BREAKWATER_SECRET can now be removed\n')
      }
    }
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
  // The server's own refusals (a secret that opens no key, a bad secret file) are one
  // secret-free line each, meant for the operator.
  if (error instanceof Error && error.message.startsWith('@breakwater/server: ')) {
    process.stderr.write(`breakwater: ${error.message.slice('@breakwater/server: '.length)}\n`)
    process.exit(1)
  }
  throw error
}
