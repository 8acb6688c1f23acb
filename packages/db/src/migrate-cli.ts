#!/usr/bin/env node
// `pnpm --filter @breakwater/db migrate [--dry-run]`: applies (or lists) the pending
// migrations of DATABASE_URL (or the embedded database in BREAKWATER_DATA_DIR), in the
// schema DATABASE_SCHEMA (default `breakwater`), and exits. Prints only the redacted
// location, never the URL as given, and a failure as one line with its real cause.
import { causeText, DatabaseError } from './errors.js'
import { migrate } from './migrate.js'
import { checkSchemaName } from './schema-plugin.js'

const USAGE =
  'usage: migrate [--dry-run]   (env: DATABASE_URL, DATABASE_SCHEMA, BREAKWATER_DATA_DIR)'

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE)
} else if (args.some((arg) => arg !== '--dry-run')) {
  console.error(USAGE)
  process.exitCode = 2
} else {
  try {
    const schema = process.env.DATABASE_SCHEMA
      ? checkSchemaName(process.env.DATABASE_SCHEMA, 'DATABASE_SCHEMA')
      : undefined
    const result = await migrate(process.env.DATABASE_URL, {
      schema,
      dryRun: args.includes('--dry-run'),
    })
    const where = `${result.location} (schema ${result.schema})`
    const names = result.dryRun ? result.pending : result.applied
    console.log(
      names.length === 0
        ? `${where}: schema up to date`
        : `${where}: ${result.dryRun ? 'would apply' : 'applied'} ${names.join(', ')}`,
    )
  } catch (error) {
    // A bad DATABASE_SCHEMA is a TypeError whose message names the variable.
    console.error(
      error instanceof DatabaseError
        ? `${error.code}: ${error.message}`
        : error instanceof TypeError
          ? error.message
          : `migration failed: ${causeText(error) ?? 'unknown error'}`,
    )
    process.exitCode = 1
  }
}
