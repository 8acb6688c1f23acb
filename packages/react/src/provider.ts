import { type BreakwaterAuth, createBreakwaterClient } from '@breakwater/client'
import { createContext, createElement, type ReactNode, useContext, useMemo } from 'react'
import { SessionStore } from './session-store.js'

const StoreContext = createContext<SessionStore | null>(null)

/** Props of {@link BreakwaterProvider}. */
export interface BreakwaterProviderProps {
  /** The session state: `createBreakwaterAuth({ url, transport: 'cookie' })`, made once per app (module scope). */
  auth: BreakwaterAuth
  /**
   * Your tRPC client on that `auth` (`createBreakwaterClient({ auth })`, or
   * `createTRPCClient` with `refreshLink(auth)`), so the hooks' calls go through
   * your links (batching, logging). Default: one the provider makes from `auth`.
   */
  client?: object
  children?: ReactNode
}

/**
 * Gives the components below it {@link useSession}, {@link useSignIn} and
 * {@link useSignUp}. Renders nothing of its own and, on the server, touches
 * nothing: no request, no `window` (the session is read once mounted).
 *
 * @example
 * ```tsx
 * const auth = createBreakwaterAuth({ url: '/trpc', transport: 'cookie' })
 * createRoot(root).render(<BreakwaterProvider auth={auth}><App /></BreakwaterProvider>)
 * ```
 */
export function BreakwaterProvider({ auth, client, children }: BreakwaterProviderProps) {
  if (typeof auth?.subscribe !== 'function') {
    throw new TypeError('@breakwater/react: BreakwaterProvider needs auth (createBreakwaterAuth)')
  }
  const store = useMemo(
    () => new SessionStore(auth, client ?? createBreakwaterClient({ auth })),
    [auth, client],
  )
  return createElement(StoreContext.Provider, { value: store }, children)
}

/** @internal The provider's store; a clear error outside one. */
export function useSessionStore(hook: string): SessionStore {
  const store = useContext(StoreContext)
  if (!store)
    throw new Error(`@breakwater/react: ${hook}() must be used inside <BreakwaterProvider>`)
  return store
}
