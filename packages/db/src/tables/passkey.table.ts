import type { ColumnType, Selectable } from 'kysely'

/** `passkeys`: a user's WebAuthn credentials (SPEC §10); public keys only, nothing secret. */
export interface PasskeyTable {
  id: string
  user_id: string
  /** The credential id, base64url, as the authenticator gave it. */
  credential_id: string
  /** The COSE public key, base64url. */
  public_key: string
  /** The signature counter (0 for authenticators without one); bigint comes back as a string. */
  counter: ColumnType<string | number, number | undefined, number>
  transports: ColumnType<string[] | null, string | null, string | null>
  device_type: 'singleDevice' | 'multiDevice'
  backed_up: boolean
  name: string
  created_at: ColumnType<Date, Date, never>
  last_used_at: Date | null
}

export type PasskeyRow = Selectable<PasskeyTable>

/** What a WebAuthn challenge was issued for. */
export type WebAuthnCeremony = 'register' | 'sign_in' | 'second_factor' | 'reauthenticate'

/** `webauthn_challenges`: a ceremony's challenge, single use, as a digest only. */
export interface WebAuthnChallengeTable {
  challenge_hash: string
  purpose: WebAuthnCeremony
  /** `null` for a sign-in with a discoverable credential: the user is not known yet. */
  user_id: string | null
  created_at: ColumnType<Date, Date, never>
  expires_at: Date
}
