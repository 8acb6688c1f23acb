import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

/**
 * Lifecycle of a signing key: `pending` (published, not yet signing), `active` (signs;
 * exactly one at a time), `retired` (published until `publish_until`, never signs).
 */
export type SigningKeyState = 'pending' | 'active' | 'retired'

/** JSON Web Key as stored (a plain JSON object). */
export type StoredJwk = Record<string, unknown>

/** `signing_keys`: access-token signing keys with their JWK forms. */
export interface SigningKeyTable {
  kid: string
  alg: string
  state: SigningKeyState
  public_jwk: ColumnType<StoredJwk, string, string>
  private_jwk: ColumnType<StoredJwk | null, string | null, string | null>
  created_at: ColumnType<Date, Date, never>
  activated_at: Date | null
  retired_at: Date | null
  /** After this instant the key no longer needs publishing (every token it signed expired). */
  publish_until: Date | null
}

export type SigningKeyRow = Selectable<SigningKeyTable>
export type NewSigningKeyRow = Insertable<SigningKeyTable>
export type SigningKeyUpdate = Updateable<SigningKeyTable>
