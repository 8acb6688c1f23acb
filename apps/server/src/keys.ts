// `breakwater keys rotate | rewrap`: signing-key maintenance against the configured database,
// with the server's own configuration (the same variables, checked the same way).
//   rotate  one rotation: the published pending key signs, the active one retires.
//   rewrap  seals every stored key again under the first BREAKWATER_SECRET ("new,old"),
//           after which the old secret can be dropped.
import { runBreakwaterCommand } from '@breakwater/server'
import { ConfigError, loadConfig } from './config.js'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  for (const line of error.problems) process.stderr.write(`breakwater: ${line}\n`)
  process.exit(1)
}
process.exitCode = await runBreakwaterCommand(
  ['keys', ...process.argv.slice(2)],
  {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    secret: config.secret,
    accessTokenTtl: config.accessTokenTtl,
    clockLeeway: config.clockLeeway,
    keyReloadInterval: 30,
  },
  {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
)
