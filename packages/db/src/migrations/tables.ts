/**
 * Breakwater's migration bookkeeping, named apart from kysely's defaults: a team's own
 * kysely `Migrator` looks for `kysely_migration` in every schema when it has none yet,
 * and must never find Breakwater's.
 */
export const MIGRATION_TABLE = 'breakwater_migration'
export const MIGRATION_LOCK_TABLE = 'breakwater_migration_lock'

/** Where versions before schemas kept their history (kysely's default name). */
export const LEGACY_MIGRATION_TABLE = 'kysely_migration'
