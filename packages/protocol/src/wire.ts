// The shapes on the wire (SPEC §3): plain JSON, instants as ISO-8601 strings.

/** `user`. */
export interface UserView {
  id: string
  email: string
  displayName: string | null
  /** Whether a verification link proved the address (SPEC §9). */
  emailVerified: boolean
  createdAt: string
}

/** `session`. */
export interface SessionView {
  id: string
  accessTokenExpiresAt: string
  refreshTokenExpiresAt: string
  expiresAt: string
}

/** `tokens`, in bearer transport only. */
export interface TokensView {
  accessToken: string
  refreshToken: string
  accessTokenExpiresAt: string
  refreshTokenExpiresAt: string
}

/** One row of `sessions.list`. */
export interface SessionListItem {
  id: string
  current: boolean
  createdAt: string
  lastUsedAt: string
  idleExpiresAt: string
  expiresAt: string
  userAgent: string | null
  ip: string | null
}

/** `cookie` (default: httpOnly cookies) or `bearer` (tokens in the body). */
export type Transport = 'cookie' | 'bearer'
