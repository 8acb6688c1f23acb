import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { type BreakwaterAuth, type BreakwaterAuthOptions, createBreakwaterAuth } from './auth.js'
import { refreshLink } from './links/refresh-link.js'

/** Options of {@link createBreakwaterClient}. */
export type BreakwaterClientOptions<TRouter extends AnyRouter> = (
  | BreakwaterAuthOptions
  | { auth: BreakwaterAuth }
) & {
  /** Send calls made in the same tick as one batch request (`httpBatchLink`). Default `false`. */
  batch?: boolean
  /** Links to run before the refresh link, such as `loggerLink()`. */
  links?: TRPCLink<TRouter>[]
}

/**
 * A tRPC v11 client for a Breakwater server, typed by your router (Breakwater's
 * own procedures merged with yours), that refreshes access tokens by itself.
 *
 * @example
 * ```ts
 * import type { AppRouter } from './server/router'
 * const client = createBreakwaterClient<AppRouter>({
 *   url: 'http://127.0.0.1:3000/trpc',
 *   transport: 'bearer',
 *   onSessionExpired: () => console.error('Signed out; log in again.'),
 * })
 * await client.auth.login.mutate({ email, password })
 * const { user } = await client.auth.me.query()
 *
 * // Breakwater's router under `account` in a router whose tRPC instance uses superjson, served at /api:
 * const app = createBreakwaterClient<AppRouter>({ url: '/api', transport: 'cookie', namespace: 'account', transformer: superjson })
 * await app.account.auth.me.query()
 * ```
 */
export function createBreakwaterClient<TRouter extends AnyRouter>(
  options: BreakwaterClientOptions<TRouter>,
): TRPCClient<TRouter> {
  const auth = 'auth' in options ? options.auth : createBreakwaterAuth(options)
  const http = {
    url: auth.url,
    headers: auth.headers,
    ...(auth.fetch ? { fetch: auth.fetch } : {}),
    // The calls must be encoded as the raw refresh request is: the same transformer.
    ...(auth.transformer ? { transformer: auth.transformer } : {}),
  }
  return createTRPCClient<TRouter>({
    links: [
      ...(options.links ?? []),
      refreshLink<TRouter>(auth),
      options.batch ? httpBatchLink<TRouter>(http as never) : httpLink<TRouter>(http as never),
    ],
  })
}
