import type { Session } from '@breakwater/db'
import type { SignedAccessToken } from '@breakwater/tokens'
import type { Runtime } from '../runtime.js'

/** A refresh token lives until the earlier of the idle and the absolute expiry. */
export function refreshExpiry(session: Session): Date {
  return new Date(Math.min(session.idleExpiresAt.getTime(), session.expiresAt.getTime()))
}

/** What a sign-in or a refresh hands over, before a transport decides how. */
export interface IssuedSession {
  readonly session: Session
  readonly access: SignedAccessToken
  readonly refreshToken: string
}

/**
 * Signs an access token for a session. Its `exp` never passes the session's
 * idle or absolute expiry (SPEC §4), so every protected call is right about
 * an ended session without reading the database.
 */
export function signAccessToken(runtime: Runtime, session: Session): Promise<SignedAccessToken> {
  return runtime.signer.sign({
    sub: session.userId,
    sid: session.id,
    notAfter: refreshExpiry(session),
    authTime: session.authTime,
    amr: session.amr,
  })
}

export async function issue(
  runtime: Runtime,
  session: Session,
  refreshToken: string,
): Promise<IssuedSession> {
  return { session, refreshToken, access: await signAccessToken(runtime, session) }
}
