import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'
import type { Database } from '@breakwater/db'
import { createSecretBox, generateSecret, type SecretBox } from '@breakwater/tokens'
import { BreakwaterSetupError } from '../setup-error.js'

/** Name of the embedded default's secret file, in the data directory beside `pglite/`. */
export const SECRET_FILE = 'secret'

/** How to make a secret, quoted in every message that asks for one. */
export const MAKE_SECRET =
  "node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\""

/** Where a key-encryption secret came from (for a start-up log line; never the value). */
export type SecretSource = 'option' | 'file' | 'ephemeral'

/** What {@link resolveKeyEncryptionSecrets} needs to know about the database. */
export type SecretDatabase = Pick<Database, 'kind' | 'location'> & { readonly dataDir?: string }

export interface ResolveSecretsOptions {
  /**
   * The key-encryption secret(s), newest first: base64url of ≥ 32 random bytes each, as
   * an array or one comma-separated string (`"new,old"` while rotating).
   */
  readonly secret?: string | readonly string[] | undefined
  readonly database: SecretDatabase
}

export interface ResolvedSecrets {
  readonly box: SecretBox
  readonly source: SecretSource
  /** The secret file, when `source` is `file`. */
  readonly file?: string
}

class SecretError extends BreakwaterSetupError {
  constructor(message: string) {
    super('SECRET_INVALID', message)
  }
}

/**
 * The key-encryption secrets that seal the stored signing keys (SPEC §2), as a
 * {@link SecretBox}:
 *
 * - `secret` given: those (a bad one is a `TypeError` naming its position, not its value);
 * - embedded PGlite with a data directory: `<dataDir>/secret`, created once (32 random
 *   bytes, base64url, mode 0600) and refused when other users may read it;
 * - embedded PGlite in memory: a random secret for this process (the keys die with it);
 * - PostgreSQL: a `TypeError`: the secret must come from outside the database.
 *
 * @example
 * const { box } = resolveKeyEncryptionSecrets({ secret: options.secret, database })
 * const keyring = await Keyring.open({ database, secrets: box, ... })
 */
export function resolveKeyEncryptionSecrets(options: ResolveSecretsOptions): ResolvedSecrets {
  const { secret, database } = options
  if (secret !== undefined && !(typeof secret === 'string' && secret.trim() === '')) {
    try {
      return { box: createSecretBox(secret), source: 'option' }
    } catch (error) {
      throw new SecretError((error as Error).message)
    }
  }
  if (database.kind !== 'pglite') {
    throw new SecretError(
      'secret is required with PostgreSQL: signing keys are stored encrypted under it, ' +
        'and it must not live in the database. Make one (32 random bytes, base64url) with ' +
        `${MAKE_SECRET} and pass it as the secret option (BREAKWATER_SECRET for the server app)`,
    )
  }
  const dataDir = embeddedDataDir(database)
  if (dataDir === undefined) return { box: createSecretBox(generateSecret()), source: 'ephemeral' }
  const file = path.join(dataDir, SECRET_FILE)
  const content = readOrCreateSecretFile(file)
  try {
    return { box: createSecretBox(content), source: 'file', file }
  } catch (error) {
    throw new SecretError(`${file}: ${(error as Error).message}`)
  }
}

function embeddedDataDir(database: SecretDatabase): string | undefined {
  if (database.dataDir !== undefined) return database.dataDir
  const location = database.location
  if (location === 'memory' || location.startsWith('memory://')) return undefined
  // An on-disk PGlite without a data directory of ours is one the caller built: its
  // directory holds database files, and the secret must live outside them. So is a
  // directory that holds PG_VERSION (a Database from before `dataDir` existed, whose
  // `location` is then PGlite's own directory), and so is a URL-like store (idb://):
  // an ephemeral secret there would orphan every stored key at the next start.
  if ('dataDir' in database || location.includes('://') || isPostgresDataDir(location)) {
    throw new SecretError(
      `secret is required with your own PGlite instance (at ${location}): there is no data directory of Breakwater's to keep one in, outside the database files. Make one with ${MAKE_SECRET}`,
    )
  }
  return location
}

function isPostgresDataDir(dir: string): boolean {
  try {
    return statSync(path.join(dir, 'PG_VERSION')).isFile()
  } catch {
    return false
  }
}

function readOrCreateSecretFile(file: string): string {
  try {
    return readSecretFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  // Written whole under a temporary name, then linked into place: link() fails when the
  // name exists, so two processes starting at once agree on one secret, and neither can
  // read a half-written file.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    writeSync(fd, `${generateSecret()}\n`)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    unlinkSync(temporary)
  }
  return readSecretFile(file)
}

function readSecretFile(file: string): string {
  const fd = openSync(file, 'r')
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new SecretError(`${file} is not a regular file`)
    // Whoever can read it can open every stored signing key.
    if ((stat.mode & 0o077) !== 0) {
      throw new SecretError(
        `${file} can be read or written by other users (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${file}`,
      )
    }
    return readFileSync(fd, 'utf8').trim()
  } finally {
    closeSync(fd)
  }
}
