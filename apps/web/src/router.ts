import { useCallback, useEffect, useState } from 'react'
import type { LinkToken } from './link-token.js'

/** The page the address bar names, and what the page before handed it. */
export interface Route {
  path: string
  /** The address typed on the page before, to prefill. */
  email?: string | undefined
  /** The mailed link's token, for the page the link opened and only there. */
  token?: string | undefined
}

export interface NavigateOptions {
  email?: string | undefined
  /** Replace the history entry (a page the user is done with), instead of adding one. */
  replace?: boolean
}

/** Goes to one of the app's pages without reloading. */
export type Navigate = (path: string, options?: NavigateOptions) => void

/**
 * The app's pages by pathname, with the History API. The token of the link the
 * page was opened with goes to that first page only: going back to it later
 * does not spend it again (a verified address would then read "invalid link").
 */
export function useRoute(link: LinkToken | undefined): { route: Route; navigate: Navigate } {
  const [route, setRoute] = useState<Route>(() => {
    const path = location.pathname
    return { path, token: link?.path === path ? link.token : undefined }
  })
  useEffect(() => {
    const back = () => setRoute({ path: location.pathname })
    window.addEventListener('popstate', back)
    return () => window.removeEventListener('popstate', back)
  }, [])
  const navigate = useCallback<Navigate>((path, { email, replace = false } = {}) => {
    if (replace) history.replaceState(null, '', path)
    else if (path !== location.pathname) history.pushState(null, '', path)
    setRoute({ path, email })
  }, [])
  return { route, navigate }
}
