import type { Session, User } from '@breakwater/db'
import type { SessionListItem, SessionView, TokensView, UserView } from '@breakwater/protocol'
import { refreshExpiry } from '../session/tokens.js'

export type { SessionListItem, SessionView, TokensView, UserView }

export function userView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: user.createdAt.toISOString(),
  }
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
