import { useMemo, useSyncExternalStore } from 'react'
import { useSessionStore } from './provider.js'
import type { SessionState } from './session-store.js'

/** What {@link useSession} returns: the {@link SessionState} and what to do with it. */
export type UseSessionResult = SessionState & {
  /** `auth.logout`: signed out here at once (even if the server could not be told: then it rejects). */
  signOut(): Promise<void>
  /** `auth.logoutAll`: every session of the user ends, this one too. */
  signOutEverywhere(): Promise<void>
  /** Reads the session again (`auth.me`): after `error`, or when the user's data changed. */
  refresh(): Promise<void>
}

/**
 * The signed-in user, kept current: `loading` (on the server, and until the
 * first `auth.me` answers), `signed-in` with `user` and `session`, or
 * `signed-out` with the `reason`. With the client's live session (on by default
 * with cookies in browsers) it turns `signed-out` the moment the session ends
 * anywhere, in every tab, without polling.
 *
 * @example
 * ```tsx
 * function Account() {
 *   const session = useSession()
 *   if (session.status === 'loading') return <p>Loading…</p>
 *   if (session.status === 'signed-out') return <SignIn />
 *   return <button onClick={() => session.signOut()}>Sign out {session.user.email}</button>
 * }
 * ```
 */
export function useSession(): UseSessionResult {
  const store = useSessionStore('useSession')
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot)
  return useMemo(
    () => ({
      ...state,
      signOut: store.signOut,
      signOutEverywhere: store.signOutEverywhere,
      refresh: store.refresh,
    }),
    [state, store],
  )
}
