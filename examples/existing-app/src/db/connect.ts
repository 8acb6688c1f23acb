// The team's database connection, opened once: a pg pool on PostgreSQL, or one PGlite
// (embedded, in a directory or in memory) when there is no DATABASE_URL. Breakwater is
// handed the same connections (see ../app.ts), never a second pool.
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { TeamDB } from './schema.js'

export interface TeamDatabase {
  readonly kind: 'postgres' | 'pglite'
  /** The team's own typed Kysely. */
  readonly db: Kysely<TeamDB>
  /**
   * What `createDatabase` of `@breakwater/db` is given: the pool itself on PostgreSQL
   * (so Breakwater can LISTEN for revocations with the pool's settings), the Kysely on
   * PGlite (one PGlite for both: it holds a single connection).
   */
  readonly shared: pg.Pool | Kysely<TeamDB>
  close(): Promise<void>
}

export type TeamDatabaseOptions =
  | { readonly url: string }
  | { readonly dataDir: string }
  | { readonly memory: true }

export async function openTeamDatabase(options: TeamDatabaseOptions): Promise<TeamDatabase> {
  if ('url' in options) {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 })
    const db = new Kysely<TeamDB>({ dialect: new PostgresDialect({ pool }) })
    return { kind: 'postgres', db, shared: pool, close: () => db.destroy() }
  }
  const pglite = new PGlite('dataDir' in options ? options.dataDir : undefined)
  await pglite.waitReady
  const db = new Kysely<TeamDB>({ dialect: new PGliteDialect({ pglite }) })
  // Destroying the Kysely closes the PGlite.
  return { kind: 'pglite', db, shared: db, close: () => db.destroy() }
}
