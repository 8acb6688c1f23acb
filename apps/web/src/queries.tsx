import {
  focusManager,
  notifyManager,
  QueryClient,
  QueryClientProvider,
} from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { auth, trpcClient } from './api.js'
import { TRPCProvider } from './trpc.js'

// TanStack Query and `@trpc/tanstack-react-query` are about 10 kB of JS gzipped, and
// only the signed-in page reads data with them: this module, and everything that
// imports them, is reached only from that page's lazy chunk (pages/signed-in.tsx),
// so a first visit (the sign-in form, the mailed links' pages) never loads them
// (test/bundle.test.ts). The pages before sign-in use `useAction` (use-action.ts).
// What follows runs when the chunk first loads, so before any query.

/**
 * The app's data: `auth.me`, the sessions, the passkeys. No timer re-reads it.
 * It changes through this page's own calls, which invalidate what they change,
 * or elsewhere, and then the page re-reads it when it comes back into view.
 * No retries: the client already renews the session and retries the refresh.
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: 'always', retry: false },
  },
})

// Results reach the components in a microtask rather than a `setTimeout(0)`: at
// once, even where timers are held back (a background tab's are throttled), and
// before what a caller does after awaiting an invalidation (TanStack/query#8815).
notifyManager.setScheduler(queueMicrotask)

// One user's cached data must not outlive their session. Nothing was cached before
// this module loaded (nothing could query without it), so subscribing now misses nothing;
// the subscription stays for the life of the page, across sign-outs and sign-ins.
auth.subscribe(({ state }) => {
  if (state === 'signed-out') queryClient.clear()
})

// TanStack Query watches `visibilitychange` only: a window focused again (the tab was
// visible behind another window) is coming back too. Together they cause one re-read.
focusManager.setEventListener((changed) => {
  const back = () => changed()
  window.addEventListener('focus', back)
  window.addEventListener('visibilitychange', back)
  return () => {
    window.removeEventListener('focus', back)
    window.removeEventListener('visibilitychange', back)
  }
})

/**
 * TanStack Query and the typed tRPC hooks (`useTRPC()`, `useTRPCClient()`,
 * trpc.ts) for the signed-in page, which wraps its content in this. The one
 * `queryClient` above, whichever sign-in this is: cleared when a session ends.
 */
export function QueryProviders({ children }: { children: ReactNode }) {
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  )
}
