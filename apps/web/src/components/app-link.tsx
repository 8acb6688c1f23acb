import type { AnchorHTMLAttributes, MouseEvent } from 'react'
import type { Navigate, NavigateOptions } from '../router.js'

export interface AppLinkProps extends AnchorHTMLAttributes<HTMLAnchorElement> {
  to: string
  navigate: Navigate
  /** What the next page may prefill, read at the click. */
  carry?: () => NavigateOptions
}

/**
 * A real link (middle-click and "copy link" work) that, on a plain click,
 * stays in the page.
 */
export function AppLink({ to, navigate, carry, children, ...rest }: AppLinkProps) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return
    event.preventDefault()
    navigate(to, carry?.())
  }
  return (
    <a {...rest} href={to} onClick={follow}>
      {children}
    </a>
  )
}
