import { Kysely, sql } from 'kysely'
import { borrowDialect } from '../borrowed-dialect.js'
import type { CreateDatabaseOptions, Database } from '../create-database.js'
import { DatabaseUnavailable, redactUrl, translateError } from '../errors.js'
import { guardDialect } from '../guarded-dialect.js'
import { RevocationHub } from '../revocation/feed.js'
import { startNotifySource } from '../revocation/notify.js'
import { startPollSource } from '../revocation/poll.js'
import type { BreakwaterSchema } from '../schema.js'
import { finish, inSchema, noop, prepareSchema } from './common.js'

/** Opens on a team's Kysely (SPEC §8): borrowed connections, typed errors, nothing closed. */
export async function openOnKysely(
  // biome-ignore lint/suspicious/noExplicitAny: a team's Kysely, whatever its schema type
  team: Kysely<any>,
  schema: string,
  options: CreateDatabaseOptions,
): Promise<Database> {
  if (team.isTransaction) {
    throw new TypeError(
      '@breakwater/db: pass createDatabase your Kysely instance, not a transaction',
    )
  }
  const location = 'kysely'
  const onError = options.onError ?? noop
  const db = inSchema(
    new Kysely<BreakwaterSchema>({ dialect: guardDialect(borrowDialect(team)) }),
    schema,
    team.getExecutor().plugins,
  )
  const version = await serverVersion(db, location)
  if (!version.startsWith('PostgreSQL')) {
    throw new TypeError('@breakwater/db: the Kysely passed in must be on PostgreSQL or PGlite')
  }
  // PGlite says so in version(): "PostgreSQL 18.6 (PGlite 0.5.16) on wasm32-…".
  const kind = /PGlite|emscripten/i.test(version) ? 'pglite' : 'postgres'
  // A Kysely hides how it connects, so LISTEN needs listenUrl (a PGlite one cannot LISTEN
  // from outside at all): without it, poll.
  const requested = options.revocationSync ?? 'notify'
  const listenUrl = kind === 'postgres' ? options.listenUrl : undefined
  const mode = requested === 'notify' && listenUrl === undefined ? 'poll' : requested
  const hub = new RevocationHub(mode, onError)
  try {
    await prepareSchema(db, options)
    if (hub.mode === 'notify' && listenUrl !== undefined) {
      hub.source = await startNotifySource(
        { connection: { connectionString: listenUrl }, schema },
        hub,
        onError,
        options.notify,
      ).catch((error: unknown) => {
        throw new DatabaseUnavailable(`cannot LISTEN for revocations at ${redactUrl(listenUrl)}`, {
          cause: translateError(error),
        })
      })
    } else if (hub.mode === 'poll') {
      hub.source = startPollSource(db, hub, onError, options.poll)
    }
  } catch (error) {
    await db.destroy().catch(noop)
    throw error
  }
  return finish(kind, schema, db, hub, location, undefined)
}

async function serverVersion(db: Kysely<BreakwaterSchema>, location: string): Promise<string> {
  try {
    const { rows } = await sql<{ v: string }>`select version() as v`.execute(db)
    return rows[0]?.v ?? ''
  } catch (error) {
    throw new DatabaseUnavailable(`cannot reach the database at ${location}`, {
      cause: translateError(error),
    })
  }
}
