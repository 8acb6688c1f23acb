import { createBreakwaterAuth, refreshLink } from '@breakwater/client'
import type { BreakwaterRouter } from '@breakwater/server'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { inferRouterOutputs } from '@trpc/server'
import { ReauthPrompt } from './reauth-prompt.js'

type Outputs = inferRouterOutputs<BreakwaterRouter>
/** `auth.me`: the user and the current session's expiries (never a token). */
export type Me = Outputs['auth']['me']
/** One row of `sessions.list`. */
export type SessionRow = Outputs['sessions']['list'][number]
/** One of the user's passkeys, as `passkeys.list` shows it (a name and dates, no key material). */
export type PasskeyRow = Outputs['passkeys']['list']['passkeys'][number]

/** Asked by the client on `REAUTH_REQUIRED`, answered by `<ReauthDialog>`. */
export const reauthPrompt = new ReauthPrompt()

/**
 * The app's one session: cookie transport, so both tokens stay in HttpOnly
 * cookies and this page only ever learns `accessTokenExpiresAt`. Tabs share
 * refreshes and sign-outs (Web Locks + BroadcastChannel, in the client), and
 * the client's live stream says the moment the session ends anywhere.
 *
 * Step-up (SPEC §10): a call refused with `REAUTH_REQUIRED` opens the
 * re-authentication dialog; once the user proved it is them there, the client
 * retries the call, so every form gets this without handling it itself.
 *
 * Made when this module loads, before main.tsx has taken a link's token out of
 * the address bar: none of this sends a request until a component asks.
 */
export const auth = createBreakwaterAuth({
  url: '/trpc',
  transport: 'cookie',
  onReauthRequired: reauthPrompt.ask,
})

/**
 * Not `httpBatchLink`: it gathers a tick's calls with a `setTimeout`, so while
 * the page's timers are held (a laptop waking from sleep, a throttled background
 * tab) a call waits for them, and with them the sign-in or the change the user
 * just asked for. One request per call, as `createBreakwaterClient` makes them.
 *
 * The pages before sign-in call it directly (through `useAction`, use-action.ts);
 * the signed-in page reaches it through TanStack Query too (queries.tsx).
 */
export const trpcClient = createTRPCClient<BreakwaterRouter>({
  links: [refreshLink(auth), httpLink({ url: auth.url, headers: auth.headers, fetch: auth.fetch })],
})

/**
 * Renews the access token first if it has expired or is about to. `auth.logout`
 * and `auth.logoutAll` are not refreshed around by the client: with an expired
 * access cookie, logout would only clear cookies and leave the session alive on
 * the server.
 */
export async function ensureFresh(): Promise<void> {
  const expiresAt = auth.accessTokenExpiresAt?.getTime()
  if (expiresAt === undefined || expiresAt - Date.now() < 1000) await auth.refresh()
}
