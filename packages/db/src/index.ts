export {
  type CreateDatabaseOptions,
  createDatabase,
  type Database,
  type DatabaseSource,
  DEFAULT_DATA_DIR,
  type PGliteInstance,
  parsePostgresUrl,
} from './create-database.js'
export { canonicalEmail, EMAIL_CANONICAL_MAX } from './email.js'
export {
  DatabaseError,
  type DatabaseErrorCode,
  DatabaseUnavailable,
  DatabaseUrlInvalid,
  DataDirInsecure,
  DataDirUnwritable,
  EmailTaken,
  EngineMissing,
  InvalidInput,
  isUnavailableError,
  MigrationFailed,
  QueryFailed,
  redactUrl,
  SchemaTooNew,
} from './errors.js'
export { type Executor, inTransaction, type TeamTransaction, teamTransaction } from './executor.js'
export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js'
export {
  LATEST_MIGRATION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  MIGRATIONS,
  type MigrationReport,
  migrateToLatest,
  migrationProvider,
  pendingMigrations,
} from './migrations/index.js'
export {
  type AuditEvent,
  type AuditEventType,
  type AuditQuery,
  appendAuditEvent,
  listAuditEvents,
  type NewAuditEvent,
  type PruneAuditEvents,
  pruneAuditEvents,
} from './queries/audit.js'
export {
  checkOneTimeCode,
  consumeOneTimeToken,
  issueOneTimeToken,
  markEmailVerified,
  type NewOneTimeToken,
  type OneTimeToken,
  type OneTimeTokenPurpose,
  pruneOneTimeTokens,
} from './queries/one-time-tokens.js'
export {
  addPasskey,
  findPasskeyByCredentialId,
  issueWebAuthnChallenge,
  listPasskeys,
  type NewPasskey,
  type Passkey,
  pruneWebAuthnChallenges,
  recordPasskeyUse,
  removePasskey,
  renamePasskey,
  takeWebAuthnChallenge,
  type WebAuthnCeremony,
} from './queries/passkeys.js'
export {
  hitRateLimit,
  peekRateLimit,
  pruneRateLimits,
  type RateLimit,
  type RateLimitRefund,
  type RateLimitVerdict,
  refundRateLimit,
  resetRateLimit,
} from './queries/rate-limits.js'
export {
  type EraseExpiredSuccessors,
  eraseExpiredSuccessors,
  type PruneRefreshChains,
  pruneRefreshChains,
  type RotateInput,
  type RotateResult,
  rotateRefreshToken,
} from './queries/refresh-tokens.js'
export {
  loadRecentRevocations,
  REVOCATION_CHANNEL,
  type RevocationEvent,
  type RevocationReason,
  type RevokeResult,
  revocationChannel,
} from './queries/revocations.js'
export {
  acceptTotpStep,
  countChallengeAttempt,
  countRecoveryCodes,
  disableTotp,
  findTotp,
  listSealedTotpSeeds,
  replaceRecoveryCodes,
  resealTotpSeed,
  startTotpEnrolment,
  type TotpState,
  useRecoveryCode,
} from './queries/second-factors.js'
export {
  createSession,
  deleteEndedSessions,
  findSessionById,
  findSessionByRefreshHash,
  IP_MAX,
  listLiveSessions,
  type NewSession,
  type RevokeSession,
  type RevokeUserSessions,
  renewSessionAuthTime,
  revokeSession,
  revokeUserSessions,
  type Session,
  sessionState,
  type TouchSession,
  touchSession,
  USER_AGENT_MAX,
} from './queries/sessions.js'
export {
  type ActivateSigningKey,
  activateSigningKey,
  deleteExpiredSigningKeys,
  insertSigningKey,
  listSigningKeys,
  type NewSigningKey,
  retireSigningKey,
  type SealSigningKey,
  type SigningKey,
  sealSigningKey,
} from './queries/signing-keys.js'
export {
  changeUserEmail,
  createUser,
  deleteUser,
  type EmailChange,
  findUserByEmail,
  findUserById,
  type NewUser,
  type PasswordUpdate,
  type User,
  updatePasswordHash,
  updateUserFields,
} from './queries/users.js'
export type { RevocationFeed, RevocationListener, RevocationSync } from './revocation/feed.js'
export { LISTENER_APPLICATION_NAME, type NotifyOptions } from './revocation/notify.js'
export type { PollOptions } from './revocation/poll.js'
export type { BreakwaterSchema } from './schema.js'
export { DEFAULT_SCHEMA } from './schema-plugin.js'
export type * from './tables/audit-event.table.js'
export type * from './tables/one-time-token.table.js'
export type * from './tables/passkey.table.js'
export type * from './tables/rate-limit.table.js'
export type * from './tables/recovery-code.table.js'
export type * from './tables/refresh-token.table.js'
export type * from './tables/session.table.js'
export type * from './tables/signing-key.table.js'
export type * from './tables/user.table.js'
