import type { AuthenticatedSession } from '../guard/authenticate.js'
import type { Runtime } from '../runtime.js'
import { currentSession } from './current.js'

/** What `sessions.watch` tells an open tab. */
export type SessionWatchEvent =
  /** The stream is up and the session live: until the event below, nothing else comes. */
  | { readonly type: 'active'; readonly expiresAt: string }
  /**
   * The session ended: `reason` is why it was revoked (`logout`, `logout_all`,
   * `user_revoked`, `password_changed`, `password_reset`, `reuse`,
   * `account_deleted`, …) or `expired` (its absolute lifetime). The stream then ends.
   */
  | { readonly type: 'ended'; readonly reason: string }

// setTimeout's longest delay; a longer session re-arms the timer.
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * `sessions.watch`: pushes the end of the caller's session, on whichever
 * instance it happens, within the revocation feed's delay (LISTEN/NOTIFY, or
 * the poll interval). Authenticated once, when the stream opens: it outlives
 * the access token that opened it (a reconnect presents a fresh one). Ends
 * quietly when the client leaves or the server shuts down (the client then
 * reconnects, to this instance or another).
 */
export async function* watchSession(
  runtime: Runtime,
  caller: AuthenticatedSession,
  signal: AbortSignal | undefined,
): AsyncGenerator<SessionWatchEvent> {
  let settle: (reason: string | undefined) => void = () => {}
  const ended = new Promise<string | undefined>((resolve) => {
    settle = resolve
  })
  // Listening before the read below, so a revocation in between is not missed.
  const stopListening = runtime.database.revocations.subscribe((event) => {
    if (event.sessionId === caller.sessionId) settle(event.reason ?? 'revoked')
  })
  const leave = () => settle(undefined)
  signal?.addEventListener('abort', leave, { once: true })
  runtime.closing.addEventListener('abort', leave, { once: true })
  let timer: NodeJS.Timeout | undefined
  try {
    const { session } = await currentSession(runtime, caller)
    const expireAt = session.expiresAt.getTime()
    const arm = () => {
      const wait = expireAt - runtime.clock()
      if (wait <= 0) settle('expired')
      else timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS))
    }
    arm()
    if (runtime.revocations.has(caller.sessionId)) settle('revoked')
    if (signal?.aborted || runtime.closing.aborted) return
    yield { type: 'active', expiresAt: session.expiresAt.toISOString() }
    const reason = await ended
    if (reason !== undefined) yield { type: 'ended', reason }
  } finally {
    clearTimeout(timer)
    stopListening()
    signal?.removeEventListener('abort', leave)
    runtime.closing.removeEventListener('abort', leave)
  }
}
