import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect } from 'kysely'
import type { CreateDatabaseOptions, Database } from '../create-database.js'
import { prepareDataDir, resolveDataDir, tightenDataDir } from '../data-dir.js'
import { DatabaseUnavailable } from '../errors.js'
import { guardDialect } from '../guarded-dialect.js'
import { newPGlite } from '../pglite-engine.js'
import { RevocationHub } from '../revocation/feed.js'
import { startPGliteSource } from '../revocation/pglite.js'
import { startPollSource } from '../revocation/poll.js'
import type { BreakwaterSchema } from '../schema.js'
import { finish, inSchema, noop, prepareSchema } from './common.js'

/** Opens the embedded engine: a PGlite in the data directory, in memory, or the caller's. */
export async function openPGlite(
  schema: string,
  options: CreateDatabaseOptions,
): Promise<Database> {
  let location = 'memory'
  let dataDir: string | undefined
  let pglite: PGlite
  if (options.pglite) {
    pglite = options.pglite as PGlite
    location = options.pglite.dataDir ?? 'memory'
  } else if (options.memory) {
    pglite = await newPGlite()
  } else {
    dataDir = resolveDataDir(options.dataDir)
    prepareDataDir(dataDir)
    location = dataDir
    pglite = await newPGlite(path.join(dataDir, 'pglite'))
  }
  try {
    await pglite.waitReady
  } catch (error) {
    throw new DatabaseUnavailable(`cannot open the embedded database at ${location}`, {
      cause: error,
    })
  }

  const onError = options.onError ?? noop
  const db = inSchema(
    new Kysely<BreakwaterSchema>({ dialect: guardDialect(new PGliteDialect({ pglite })) }),
    schema,
  )
  const hub = new RevocationHub(options.revocationSync ?? 'notify', onError)
  try {
    await prepareSchema(db, options)
    if (dataDir !== undefined) tightenDataDir(dataDir)
    if (hub.mode === 'notify') hub.source = await startPGliteSource(pglite, schema, hub)
    else if (hub.mode === 'poll') hub.source = startPollSource(db, hub, onError, options.poll)
  } catch (error) {
    await db.destroy().catch(noop)
    if (!pglite.closed) await pglite.close().catch(noop)
    throw error
  }
  return finish('pglite', schema, db, hub, location, dataDir)
}
