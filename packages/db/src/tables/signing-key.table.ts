import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

/**
 * Lifecycle of a signing key: `pending` (published, not yet signing), `active` (signs;
 * exactly one at a time), `retired` (published until `publish_until`, never signs).
 */
export type SigningKeyState = 'pending' | 'active' | 'retired'

/** JSON Web Key as stored (a plain JSON object). */
export type StoredJwk = Record<string, unknown>

/**
 * `signing_keys`: access-token signing keys. The public JWK is stored in clear (it is
 * published anyway); the private key only sealed (AES-256-GCM, SPEC §2) under a
 * key-encryption secret that never enters the database.
 */
export interface SigningKeyTable {
  kid: string
  alg: string
  state: SigningKeyState
  public_jwk: ColumnType<StoredJwk, string, string>
  /**
   * Legacy: the plaintext private JWK of a row written before private keys were sealed.
   * Never written any more; the server seals such a row on start and clears this.
   */
  private_jwk: ColumnType<StoredJwk | null, never, null>
  /** The private JWK, sealed by the server's secret box (`v1.<keyId>.<iv>.<ciphertext>`). */
  sealed_private_key: ColumnType<string | null, string, string>
  created_at: ColumnType<Date, Date, never>
  activated_at: Date | null
  retired_at: Date | null
  /** After this instant the key no longer needs publishing (every token it signed expired). */
  publish_until: Date | null
}

export type SigningKeyRow = Selectable<SigningKeyTable>
export type NewSigningKeyRow = Insertable<SigningKeyTable>
export type SigningKeyUpdate = Updateable<SigningKeyTable>
