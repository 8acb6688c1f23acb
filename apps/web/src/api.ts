import {
  type BreakwaterAuth,
  createBreakwaterAuth,
  createBreakwaterClient,
  type SessionEndReason,
} from '@breakwater/client'
import type { BreakwaterRouter } from '@breakwater/server'
import type { inferRouterOutputs } from '@trpc/server'
import { reauthDialog } from './views/reauth-dialog.js'

type Outputs = inferRouterOutputs<BreakwaterRouter>
/** `auth.me`: the user and the current session's expiries (never a token). */
export type Me = Outputs['auth']['me']
/** One row of `sessions.list`. */
export type SessionRow = Outputs['sessions']['list'][number]
/** One of the user's passkeys, as `passkeys.list` shows it (a name and dates, no key material). */
export type PasskeyRow = Outputs['passkeys']['list']['passkeys'][number]

export interface Api {
  auth: BreakwaterAuth
  client: ReturnType<typeof createBreakwaterClient<BreakwaterRouter>>
  /** Renews the access token first if it has expired or is about to (sign-out calls are not retried). */
  ensureFresh(): Promise<void>
}

/**
 * The app's one client: cookie transport, so both tokens stay in HttpOnly
 * cookies and this page only ever learns `accessTokenExpiresAt`. Tabs share
 * refreshes and sign-outs (Web Locks + BroadcastChannel, in the client).
 *
 * Step-up (SPEC §10): a call refused with `REAUTH_REQUIRED` opens the
 * re-authentication dialog; once the user proved it is them there, the client
 * retries the call, so every form gets this without handling it itself.
 */
export function createApi(onSessionExpired: (reason: SessionEndReason) => void): Api {
  const auth = createBreakwaterAuth({
    url: '/trpc',
    transport: 'cookie',
    onSessionExpired: ({ reason }) => {
      reauth.dismiss()
      onSessionExpired(reason)
    },
    onReauthRequired: () => reauth.ask(),
  })
  const client = createBreakwaterClient<BreakwaterRouter>({ auth })
  // The answer is a fresh access cookie carrying the new `auth_time` (the client keeps its expiry).
  const reauth = reauthDialog(
    (input) => client.auth.reauthenticate.mutate(input),
    () => client.passkeys.reauthenticationOptions.mutate(),
  )
  return {
    auth,
    client,
    async ensureFresh() {
      // auth.logout and auth.logoutAll are not refreshed around by the client:
      // with an expired access cookie, logout would only clear cookies and
      // leave the session alive on the server. Renew first.
      const expiresAt = auth.accessTokenExpiresAt?.getTime()
      if (expiresAt === undefined || expiresAt - Date.now() < 1000) await auth.refresh()
    },
  }
}
