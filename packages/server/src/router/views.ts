import type { Session, User } from '@breakwater/db'

/** `user` on the wire (SPEC §3). */
export interface UserView {
  id: string
  email: string
  displayName: string | null
  createdAt: string
}

/** `session` on the wire (SPEC §3). */
export interface SessionView {
  id: string
  accessTokenExpiresAt: string
  refreshTokenExpiresAt: string
  expiresAt: string
}

/** `tokens` on the wire, bearer transport only. */
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

export function userView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    createdAt: user.createdAt.toISOString(),
  }
}

/** A refresh token lives until the earlier of the idle and the absolute expiry. */
export function refreshExpiry(session: Session): Date {
  return new Date(Math.min(session.idleExpiresAt.getTime(), session.expiresAt.getTime()))
}

export function sessionView(session: Session, accessTokenExpiresAt: Date): SessionView {
  return {
    id: session.id,
    accessTokenExpiresAt: accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: refreshExpiry(session).toISOString(),
    expiresAt: session.expiresAt.toISOString(),
  }
}

export function sessionListItem(session: Session, currentId: string): SessionListItem {
  return {
    id: session.id,
    current: session.id === currentId,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    idleExpiresAt: session.idleExpiresAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    userAgent: session.userAgent,
    ip: session.ip,
  }
}
