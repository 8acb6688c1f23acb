import type { PGlite } from '@electric-sql/pglite'
import { EngineMissing } from './errors.js'

/** The optional peer dependency that is the embedded engine. */
export const PGLITE_PACKAGE = '@electric-sql/pglite'

/**
 * A new PGlite (in memory without `dataDir`). `@electric-sql/pglite` (27 MB of wasm) is an
 * optional peer dependency, imported here and only here, when the embedded engine is
 * actually used: a team on PostgreSQL never installs or loads it.
 *
 * @throws {EngineMissing} `DB_ENGINE_MISSING` when it is not installed.
 */
export async function newPGlite(dataDir?: string): Promise<PGlite> {
  const { PGlite } = await loadPGlite()
  return new PGlite(dataDir)
}

/**
 * The `@electric-sql/pglite` module.
 *
 * @throws {EngineMissing} `DB_ENGINE_MISSING` when it is not installed.
 */
export async function loadPGlite(): Promise<typeof import('@electric-sql/pglite')> {
  try {
    // A literal specifier, so bundlers still see (and can split out) the dependency.
    return await import('@electric-sql/pglite')
  } catch (error) {
    if (isMissing(error)) throw new EngineMissing({ cause: error })
    throw error
  }
}

// Missing itself, not one of its own imports failing (that is a broken install, which
// must surface as it is).
function isMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${PGLITE_PACKAGE}'`)
  )
}
