import type { BreakwaterRouter } from '@breakwater/server'
import { createTRPCContext } from '@trpc/tanstack-react-query'

/**
 * Typed TanStack Query hooks on the app's tRPC client: `useTRPC()` for query and
 * mutation options (`trpc.sessions.list.queryOptions()`), `useTRPCClient()` for
 * calls that are steps of a longer flow (a passkey ceremony between two calls).
 * For the signed-in page and its components only, inside `<QueryProviders>`
 * (queries.tsx): this loads with that page, not on a first visit. The pages
 * before sign-in use `trpcClient` (api.ts) itself.
 */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<BreakwaterRouter>()
