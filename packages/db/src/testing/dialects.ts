import { type CreateDatabaseOptions, createDatabase, type Database } from '../create-database.js'
import { newTestPGlite } from './pglite-image.js'
import { startTestPostgres } from './postgres.js'

/** The engines every suite runs on. */
export const DIALECTS = ['pglite', 'postgres'] as const

/** One of {@link DIALECTS}. */
export type DialectName = (typeof DIALECTS)[number]

/**
 * A fresh, migrated database: PGlite in memory (started from {@link newTestPGlite}'s
 * image), or a new database on this process's test PostgreSQL ({@link startTestPostgres}).
 * Close it when done.
 */
export async function openTestDatabase(
  dialect: DialectName,
  options: CreateDatabaseOptions = {},
): Promise<Database> {
  if (dialect === 'pglite') {
    return createDatabase(undefined, {
      pglite: options.pglite ?? (await newTestPGlite()),
      ...options,
    })
  }
  const server = await startTestPostgres()
  return createDatabase(await server.createDatabaseUrl(), options)
}

/**
 * The part of a tap `Test` that {@link forEachDialect} uses. `test` is typed loosely
 * because tap's is overloaded; subtests are assumed to have the parent's type, as in tap.
 */
export interface DialectTest {
  test: (...args: never[]) => unknown
  teardown(fn: () => unknown): unknown
}

/**
 * Runs `body` once per dialect, as a subtest named after it, with a fresh database
 * that is closed when the subtest ends.
 *
 * @example
 * ```ts
 * import t from 'tap'
 * import { forEachDialect } from '@breakwater/db/testing'
 *
 * t.test('finds users by email', (t) =>
 *   forEachDialect(t, async (t, { db }) => {
 *     await createUser(db, { email: 'Ada@Example.com', passwordHash: 'h' })
 *     t.ok(await findUserByEmail(db, 'ada@example.com'))
 *   }))
 * ```
 */
export async function forEachDialect<T extends DialectTest>(
  t: T,
  body: (t: T, database: Database, dialect: DialectName) => Promise<void> | void,
  options: CreateDatabaseOptions & { readonly dialects?: readonly DialectName[] } = {},
): Promise<void> {
  const host = t as unknown as { test(name: string, fn: (t: T) => Promise<void>): unknown }
  for (const dialect of options.dialects ?? DIALECTS) {
    await host.test(dialect, async (t) => {
      const database = await openTestDatabase(dialect, options)
      t.teardown(() => database.close())
      await body(t, database, dialect)
    })
  }
}
