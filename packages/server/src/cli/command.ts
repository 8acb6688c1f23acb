import { createDatabase, DatabaseError, migrate } from '@breakwater/db'
import { rotateSigningKeys } from '../keys/keyring.js'
import { rewrapSigningKeys } from '../keys/rewrap.js'
import { checkOptions, DEFAULTS } from '../options.js'
import { rememberSeconds } from '../runtime.js'
import { BreakwaterSetupError } from '../setup-error.js'

/** What `breakwater` commands need to know, from the environment or a server's own config. */
export interface CommandSettings {
  /** `postgres://…`; unset: the embedded database in `dataDir`. */
  readonly databaseUrl?: string | undefined
  readonly dataDir?: string | undefined
  /** PostgreSQL schema of Breakwater's tables. Default `breakwater`. */
  readonly schema?: string | undefined
  /** Key-encryption secrets, newest first. */
  readonly secret?: readonly string[] | undefined
  /** Seconds; how long a retired signing key stays published depends on them. */
  readonly accessTokenTtl: number
  readonly clockLeeway: number
  readonly keyReloadInterval: number
}

/** Where a command writes: one line per call, never a secret. */
export interface CommandOutput {
  out(line: string): void
  err(line: string): void
}

export const USAGE =
  'usage: breakwater migrate [--dry-run] | breakwater keys rotate | breakwater keys rewrap'

const ENV_OF: Record<string, string> = {
  accessTokenTtl: 'ACCESS_TOKEN_TTL',
  clockLeeway: 'CLOCK_LEEWAY',
  keyReloadInterval: 'KEY_RELOAD_INTERVAL',
  secret: 'BREAKWATER_SECRET',
}

/**
 * Reads {@link CommandSettings} from the environment the server reads
 * (`DATABASE_URL`, `DATABASE_SCHEMA`, `BREAKWATER_DATA_DIR`, `BREAKWATER_SECRET`,
 * `ACCESS_TOKEN_TTL`, `CLOCK_LEEWAY`), checked by the plugin's own option checks.
 */
export function commandSettingsFromEnv(env: NodeJS.ProcessEnv): {
  settings: CommandSettings
  problems: readonly string[]
} {
  const raw = (name: string) => env[name]?.trim() || undefined
  const secret = raw('BREAKWATER_SECRET')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  const { settings, problems } = checkOptions({
    accessTokenTtl: raw('ACCESS_TOKEN_TTL') ?? DEFAULTS.accessTokenTtl,
    clockLeeway: raw('CLOCK_LEEWAY') ?? DEFAULTS.clockLeeway,
    ...(secret ? { secret } : {}),
  })
  const schema = raw('DATABASE_SCHEMA')
  const schemaProblems =
    schema === undefined || /^[a-z_][a-z0-9_]{0,62}$/.test(schema)
      ? []
      : ['DATABASE_SCHEMA: must be a lower-case identifier such as breakwater (letters, digits, _)']
  return {
    settings: {
      databaseUrl: raw('DATABASE_URL'),
      dataDir: raw('BREAKWATER_DATA_DIR'),
      schema,
      secret: settings.secret,
      accessTokenTtl: settings.accessTokenTtl,
      clockLeeway: settings.clockLeeway,
      keyReloadInterval: settings.keyReloadInterval,
    },
    problems: [
      ...problems.map(({ option, message }) => `${ENV_OF[option] ?? option}: ${message}`),
      ...schemaProblems,
    ],
  }
}

/**
 * `breakwater migrate [--dry-run]` and `breakwater keys rotate|rewrap`: the
 * operator's commands, against the database the server uses. Resolves with the
 * exit code (0 done, 1 failed, 2 usage). Prints counts, names and redacted
 * locations only: never a key, a sealed value or a secret.
 */
export async function runBreakwaterCommand(
  args: readonly string[],
  settings: CommandSettings,
  output: CommandOutput,
): Promise<number> {
  const [command, ...rest] = args
  try {
    if (command === 'migrate' && rest.every((arg) => arg === '--dry-run'))
      return await migrateCommand(settings, rest.includes('--dry-run'), output)
    if (command === 'keys' && rest.length === 1 && (rest[0] === 'rotate' || rest[0] === 'rewrap'))
      return await keysCommand(rest[0], settings, output)
  } catch (error) {
    if (error instanceof DatabaseError) {
      output.err(`breakwater: database: ${error.code}: ${error.message}`)
      return 1
    }
    // The server's own refusals (a secret that opens no key, a bad secret file) are one
    // secret-free line each, meant for the operator.
    if (error instanceof BreakwaterSetupError) {
      output.err(`breakwater: ${error.message.slice('@breakwater/server: '.length)}`)
      return 1
    }
    throw error
  }
  output.err(USAGE)
  return 2
}

async function migrateCommand(
  settings: CommandSettings,
  dryRun: boolean,
  output: CommandOutput,
): Promise<number> {
  const result = await migrate(settings.databaseUrl, {
    dryRun,
    ...(settings.schema ? { schema: settings.schema } : {}),
    ...(settings.dataDir ? { dataDir: settings.dataDir } : {}),
  })
  const where = `${result.location} (schema ${result.schema})`
  if (result.dryRun) {
    output.out(
      result.pending.length === 0
        ? `${where}: up to date, nothing to apply`
        : `${where}: ${result.pending.length} pending: ${result.pending.join(', ')}`,
    )
  } else {
    output.out(
      result.applied.length === 0
        ? `${where}: up to date`
        : `${where}: applied ${result.applied.join(', ')}`,
    )
  }
  return 0
}

async function keysCommand(
  command: 'rotate' | 'rewrap',
  settings: CommandSettings,
  output: CommandOutput,
): Promise<number> {
  const database = await createDatabase(settings.databaseUrl, {
    revocationSync: 'off',
    ...(settings.schema ? { schema: settings.schema } : {}),
    ...(settings.dataDir ? { dataDir: settings.dataDir } : {}),
  })
  try {
    if (command === 'rotate') {
      // A retired key stays published while any token it signed can live.
      const result = await rotateSigningKeys({
        database,
        alg: 'EdDSA',
        retireAfterSeconds: rememberSeconds(settings),
        secret: settings.secret,
      })
      output.out(
        `signing key ${result.activated} is active; ${result.published} is published for the next rotation`,
      )
      if (result.deleted.length) output.out(`removed expired keys: ${result.deleted.join(', ')}`)
      return 0
    }
    const result = await rewrapSigningKeys({ database, secret: settings.secret })
    output.out(
      `${result.total} signing keys sealed under the first secret: ${result.rewrapped} rewrapped, ` +
        `${result.sealed} sealed from plaintext, ${result.current} already current`,
    )
    output.out(
      `${result.totpSeeds.total} TOTP seeds sealed under the first secret: ${result.totpSeeds.rewrapped} rewrapped`,
    )
    const skipped = result.skipped + result.totpSeeds.skipped
    if (skipped > 0) {
      output.out(`${skipped} changed while this ran: run it again`)
      return 1
    }
    if (settings.secret && settings.secret.length > 1)
      output.out('the older secrets in BREAKWATER_SECRET can now be removed')
    return 0
  } finally {
    await database.close()
  }
}
