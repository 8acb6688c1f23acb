import { appLink, h, type Navigate, outcomeLines, say } from '../dom.js'
import { describeError } from '../messages.js'

export interface LinkActionProps {
  title: string
  /** From the mailed link, already gone from the address bar (link-token.ts). */
  token: string | undefined
  /** The one call the link is for. */
  use(token: string): Promise<unknown>
  /** Said when it worked. */
  done: string
  navigate: Navigate
}

/**
 * A page that spends a mailed link's token on load (`/verify-email`,
 * `/confirm-email-change`) and says how it went. `data-state` on the card is
 * `pending`, then `done` or `failed`, for tests and styles.
 */
export function linkActionView({ title, token, use, done, navigate }: LinkActionProps) {
  const { error, notice } = outcomeLines()
  const status = h('p', { class: 'muted' }, 'Checking the link…')
  const next = h(
    'p',
    { class: 'links', hidden: true },
    appLink('/', 'Continue to Breakwater', navigate, { 'data-testid': 'continue' }),
  )
  const card = h(
    'section',
    { class: 'card narrow', 'data-testid': 'link-page', 'data-state': 'pending' },
    h('h1', {}, title),
    status,
    error,
    notice,
    next,
  )
  const settle = (state: 'done' | 'failed', message: string) => {
    status.hidden = true
    card.dataset.state = state
    say(state === 'done' ? notice : error, message)
    next.hidden = false
  }
  if (!token) {
    settle('failed', 'This page needs the link from the email. Open that link again.')
  } else {
    use(token).then(
      () => settle('done', done),
      (failure: unknown) => settle('failed', describeError(failure, 'link')),
    )
  }
  return card
}
