import { readReason } from '@breakwater/client'
import { useSession } from '@breakwater/react'
import { lazy, Suspense, useEffect, useState } from 'react'
import { Loading } from '../components/loading.js'
import { describeError, endMessage } from '../messages.js'
import type { Navigate } from '../router.js'
import { SignIn } from './sign-in.js'

// Only a signed-in visit loads the signed-in page, and what it needs: TanStack Query and
// its tRPC hooks (queries.tsx), then QR codes and passkeys. The forms before it use none of them.
const SignedIn = lazy(() => import('./signed-in.js'))

export interface HomeProps {
  /** What to prefill (coming back from the reset or code pages). */
  email: string | undefined
  navigate: Navigate
}

/**
 * The app itself, at `/`: the sign-in form or the signed-in page, as
 * `useSession()` says. A session that ends anywhere (signed out in another tab
 * or browser, revoked, expired) turns it `signed-out` from the client's live
 * stream, and the form says why.
 */
export function Home({ email, navigate }: HomeProps) {
  const session = useSession()
  /** What this tab's own ending of the session says ("Signed out."), set as it begins. */
  const [farewell, setFarewell] = useState<string>()
  /** A session was shown here: its cookies going missing is news, unlike a first visit's. */
  const [held, setHeld] = useState(false)

  // Signed-in or signed-out, the app's own page is `/`, whichever address led here.
  useEffect(() => {
    if (location.pathname !== '/') history.replaceState(null, '', '/')
  }, [])
  useEffect(() => {
    if (session.status !== 'signed-in') return
    setHeld(true)
    setFarewell(undefined)
  }, [session.status])

  if (session.status === 'signed-in') {
    return (
      <Suspense fallback={<Loading />}>
        <SignedIn session={session} onLeaving={setFarewell} />
      </Suspense>
    )
  }
  if (session.status === 'signed-out') {
    const news = session.reason !== 'REFRESH_MISSING' || held
    const notice = farewell ?? (news ? endMessage(session.reason) : undefined)
    return <SignIn notice={notice} email={email} navigate={navigate} />
  }
  if (session.error === undefined) return <Loading />
  // The server could not tell (unreachable, its storage down): the form, and why it may fail.
  const error =
    readReason(session.error) === 'TOKEN_INVALID'
      ? undefined
      : describeError(session.error, 'other')
  return <SignIn error={error} email={email} navigate={navigate} />
}
