import { trpcClient as client } from './api.js'
import type { LinkToken } from './link-token.js'
import { ForgotPassword } from './pages/forgot-password.js'
import { Home } from './pages/home.js'
import { LinkAction } from './pages/link-action.js'
import { ResetPassword } from './pages/reset-password.js'
import { SignInCode } from './pages/sign-in-code.js'
import { useRoute } from './router.js'

/** The page the address bar names: mailed links, the reset and code pages, or the app itself (any other path). */
export function App({ link }: { link: LinkToken | undefined }) {
  const { route, navigate } = useRoute(link)
  switch (route.path) {
    case '/forgot-password':
      return <ForgotPassword email={route.email} navigate={navigate} />
    case '/sign-in-with-code':
      return <SignInCode email={route.email} navigate={navigate} />
    case '/reset-password':
      return <ResetPassword token={route.token} navigate={navigate} />
    case '/verify-email':
      return (
        <LinkAction
          title="Verify your email"
          token={route.token}
          use={(token) => client.auth.verifyEmail.mutate({ token })}
          done="Your email address is verified."
          navigate={navigate}
        />
      )
    case '/confirm-email-change':
      return (
        <LinkAction
          title="Confirm your new email"
          token={route.token}
          use={(token) => client.auth.confirmEmailChange.mutate({ token })}
          done="Your email address is changed. Sign in with the new one from now on."
          navigate={navigate}
        />
      )
    default:
      return <Home email={route.email} navigate={navigate} />
  }
}
