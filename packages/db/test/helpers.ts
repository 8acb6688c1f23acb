// Shared fixtures for the db suites.
import { type Kysely, sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import type { Test } from 'tap'
import {
  type BreakwaterSchema,
  createUser,
  type Executor,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  migrationProvider,
  type User,
} from '../src/index.js'

let counter = 0

/** A user with a unique email, so tests sharing one database never collide. */
export function newUser(db: Executor, email?: string): Promise<User> {
  counter++
  return createUser(db, {
    email: email ?? `user${counter}.${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    displayName: `User ${counter}`,
  })
}

/** A random stand-in for a refresh-token hash. */
export function fakeHash(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

/** Every row of every table in `schema`, as one string: what a stolen dump would show. */
export async function dumpAllTables(db: Executor, schema = 'breakwater'): Promise<string> {
  const { rows: tables } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${schema} and table_type = 'BASE TABLE' order by table_name`.execute(db)
  const parts: string[] = []
  for (const { table_name } of tables) {
    const { rows } = await sql`select * from ${sql.id(schema, table_name)}`.execute(db)
    parts.push(`${table_name}: ${JSON.stringify(rows)}`)
  }
  return parts.join('\n')
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(check: () => boolean, timeoutMs = 1000): Promise<boolean> {
  const until = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > until) {
      // After a stall the timer fires before the event loop reads the sockets: let it read
      // what already arrived, then look once more.
      await new Promise((resolve) => setImmediate(resolve))
      return check()
    }
    await sleep(10)
  }
  return true
}

/** Like {@link eventually}, for an async check; a rejected check counts as `false`. */
export async function eventuallyAsync(
  check: () => Promise<boolean>,
  timeoutMs = 1000,
): Promise<boolean> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > until) return false
    await sleep(50)
  }
}

/**
 * Asserts that `result` is of `kind` and returns it narrowed; throws (failing the test)
 * otherwise, so that no assertion hides behind an `if` that could skip it.
 */
export function expectKind<R extends { readonly kind: string }, K extends R['kind']>(
  t: Pick<Test, 'equal'>,
  result: R,
  kind: K,
  message?: string,
): Extract<R, { readonly kind: K }> {
  t.equal(result.kind, kind, message ?? `a ${kind} result`)
  if (result.kind !== kind) throw new Error(`expected a ${kind} result, got ${result.kind}`)
  return result as Extract<R, { readonly kind: K }>
}

/**
 * kysely's `Migrator` over this package's migrations, with the schema and table names the
 * package's own `migrateToLatest` gives it: for tests that stop at an older migration.
 */
export function migratorFor(db: Kysely<BreakwaterSchema>, schema: string | undefined): Migrator {
  return new Migrator({
    db,
    provider: migrationProvider,
    migrationTableSchema: schema,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
}
