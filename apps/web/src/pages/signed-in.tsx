import type { UseSessionResult } from '@breakwater/react'
import { useQuery } from '@tanstack/react-query'
import { lazy, Suspense } from 'react'
import { ChangePasswordCard } from '../components/change-password-card.js'
import { Countdown } from '../components/countdown.js'
import { DeleteAccountCard } from '../components/delete-account-card.js'
import { EmailCard } from '../components/email-card.js'
import { ReauthDialog } from '../components/reauth-dialog.js'
import { SessionsCard } from '../components/sessions-card.js'
import { SignOutCard } from '../components/sign-out-card.js'
import { QueryProviders } from '../queries.js'
import { useTRPC } from '../trpc.js'

// The authenticator app (QR codes) and passkeys (WebAuthn) load after the rest of the page.
const SecurityCard = lazy(() => import('../components/security-card.js'))

export interface SignedInProps {
  session: Extract<UseSessionResult, { status: 'signed-in' }>
  /** This tab is ending the session (signing out, deleting the account): what the sign-in form should say, or `undefined` when that failed. */
  onLeaving(farewell: string | undefined): void
}

/**
 * The signed-in page: who, token countdown, sessions, email, password,
 * security, sign-out, deletion. No timer here calls the server: the session's
 * end comes from the client's live stream (`useSession()`), the countdown is
 * local, and `auth.me` and the sessions are re-read when the page comes back
 * into view and after a change this page makes (queries.tsx).
 *
 * It brings TanStack Query with it: its providers are here, not in main.tsx, so
 * that they load with this page's chunk rather than on a first visit.
 */
export default function SignedIn(props: SignedInProps) {
  return (
    <QueryProviders>
      <Page {...props} />
    </QueryProviders>
  )
}

function Page({ session, onLeaving }: SignedInProps) {
  const trpc = useTRPC()
  // Who: the sign-in's answer first, then `auth.me` (the address or its status may change in another tab).
  const { data: me } = useQuery({
    ...trpc.auth.me.queryOptions(),
    initialData: { user: session.user, session: session.session },
  })
  // The expiry comes from results (me, refresh); the token itself never does.
  const expiresAt = session.accessTokenExpiresAt ?? new Date(me.session.accessTokenExpiresAt)

  return (
    <div className="page" data-testid="signed-in">
      <header className="bar">
        <span className="brand">Breakwater</span>
        <span>
          Signed in as <strong data-testid="me-email">{me.user.email}</strong>
        </span>
      </header>
      <section className="card">
        <h2>Access token</h2>
        <p>
          Expires in <Countdown expiresAt={expiresAt} />
        </p>
        <p className="hint">
          Renewed automatically on the next request. Both tokens live in HttpOnly cookies: this page
          never sees them.
        </p>
      </section>
      <SessionsCard />
      <EmailCard me={me} />
      <ChangePasswordCard />
      <Suspense>
        <SecurityCard />
      </Suspense>
      <SignOutCard session={session} onLeaving={onLeaving} />
      <DeleteAccountCard onLeaving={onLeaving} />
      <ReauthDialog />
    </div>
  )
}
