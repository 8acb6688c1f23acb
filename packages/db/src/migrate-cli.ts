#!/usr/bin/env node
// `pnpm --filter @breakwater/db migrate`: applies pending migrations to DATABASE_URL (or
// the embedded database in BREAKWATER_DATA_DIR) and exits. Prints only the redacted
// location, never the URL as given.
import { createDatabase } from './create-database.js'
import { DatabaseError } from './errors.js'
import { migrateToLatest } from './migrations/index.js'

try {
  const database = await createDatabase(process.env.DATABASE_URL, {
    migrate: false,
    revocationSync: 'off',
  })
  try {
    const { applied } = await migrateToLatest(database.db)
    console.log(
      applied.length === 0
        ? `${database.location}: schema up to date`
        : `${database.location}: applied ${applied.join(', ')}`,
    )
  } finally {
    await database.close()
  }
} catch (error) {
  console.error(
    error instanceof DatabaseError ? `${error.code}: ${error.message}` : 'migration failed',
  )
  process.exitCode = 1
}
