import type { AuditEventTable } from './tables/audit-event.table.js'
import type { OneTimeTokenTable } from './tables/one-time-token.table.js'
import type { PasskeyTable, WebAuthnChallengeTable } from './tables/passkey.table.js'
import type { RateLimitTable } from './tables/rate-limit.table.js'
import type { RecoveryCodeTable } from './tables/recovery-code.table.js'
import type { RefreshTokenTable } from './tables/refresh-token.table.js'
import type { SessionTable } from './tables/session.table.js'
import type { SigningKeyTable } from './tables/signing-key.table.js'
import type { UserTable } from './tables/user.table.js'

/** The whole Breakwater schema, for `Kysely<BreakwaterSchema>`. */
export interface BreakwaterSchema {
  users: UserTable
  sessions: SessionTable
  refresh_tokens: RefreshTokenTable
  signing_keys: SigningKeyTable
  auth_events: AuditEventTable
  rate_limits: RateLimitTable
  one_time_tokens: OneTimeTokenTable
  recovery_codes: RecoveryCodeTable
  passkeys: PasskeyTable
  webauthn_challenges: WebAuthnChallengeTable
}
