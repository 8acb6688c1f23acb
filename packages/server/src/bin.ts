#!/usr/bin/env node
// `breakwater migrate [--dry-run]`, `breakwater keys rotate | rewrap`: see cli/command.ts.
import { commandSettingsFromEnv, runBreakwaterCommand } from './cli/command.js'

const { settings, problems } = commandSettingsFromEnv(process.env)
if (problems.length > 0) {
  for (const line of problems) process.stderr.write(`breakwater: ${line}\n`)
  process.exit(1)
}
process.exitCode = await runBreakwaterCommand(process.argv.slice(2), settings, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
})
