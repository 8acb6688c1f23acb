// @electric-sql/pglite is an optional peer dependency: a process where it cannot be
// resolved (a team on PostgreSQL that never installed it) still imports @breakwater/db
// and opens PostgreSQL; only the embedded engine fails, with DB_ENGINE_MISSING.
import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { startTestPostgres } from '../src/testing/index.js'

// A resolve hook that makes the package missing, as Node says it when it is.
const HIDE_PGLITE = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier === '@electric-sql/pglite' || specifier.startsWith('@electric-sql/pglite/')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL)
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return next(specifier, context)
}\`))
`)}`

const SCRIPT = `
import { createDatabase, createUser, DatabaseError } from './src/index.ts'
const report = {}
const database = await createDatabase(process.env.DATABASE_URL)
report.postgres = (await createUser(database.db, { email: 'a@example.com', passwordHash: 'h' })).email
await database.close()
try {
  await createDatabase(undefined, { memory: true })
} catch (error) {
  report.code = error instanceof DatabaseError ? error.code : String(error)
  report.message = error.message
}
console.log(JSON.stringify(report))
`

t.test(
  'without @electric-sql/pglite: PostgreSQL works, the embedded engine says why not',
  async (t) => {
    const server = await startTestPostgres()
    const url = await server.createDatabaseUrl()
    const { code, stdout, stderr } = await new Promise<{
      code: number | null
      stdout: string
      stderr: string
    }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--import', HIDE_PGLITE, '--input-type=module', '--eval', SCRIPT],
        {
          cwd: path.resolve(import.meta.dirname, '..'),
          env: { PATH: process.env.PATH, DATABASE_URL: url },
        },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
    t.equal(code, 0, stderr)
    t.same(JSON.parse(stdout), {
      postgres: 'a@example.com',
      code: 'DB_ENGINE_MISSING',
      message:
        'the embedded database needs @electric-sql/pglite (npm install @electric-sql/pglite), or set DATABASE_URL',
    })
  },
)
