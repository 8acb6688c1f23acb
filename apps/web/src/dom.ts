type Attrs = Record<string, string | boolean | undefined>
type Child = Node | string | null | undefined | false

/** A tiny element builder: `h('button', { 'data-testid': 'sign-out' }, 'Sign out')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    element.setAttribute(name, value === true ? '' : value)
  }
  for (const child of children) if (child) element.append(child)
  return element
}

/** Shows `message` in an alert line, or hides it when empty. */
export function say(element: HTMLElement, message: string | undefined): void {
  element.textContent = message ?? ''
  element.hidden = !message
}

/** Runs `action` with the form's buttons disabled, so one click sends one request. */
export async function busy(form: HTMLFormElement, action: () => Promise<void>): Promise<void> {
  const buttons = [...form.querySelectorAll('button')]
  for (const button of buttons) button.disabled = true
  form.setAttribute('aria-busy', 'true')
  try {
    await action()
  } finally {
    for (const button of buttons) button.disabled = false
    form.removeAttribute('aria-busy')
  }
}

/** Goes to one of the app's pages without reloading (history.pushState, then render). */
export type Navigate = (path: string, carry?: { email?: string }) => void

/**
 * A real link (middle-click and "copy link" work) that, on a plain click,
 * stays in the page: `carry()` hands over what the next page may prefill.
 */
export function appLink(
  path: string,
  text: string,
  navigate: Navigate,
  attrs: Attrs = {},
  carry?: () => { email?: string },
): HTMLAnchorElement {
  const link = h('a', { ...attrs, href: path }, text)
  link.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return
    event.preventDefault()
    navigate(path, carry?.())
  })
  return link
}

/** The `role="alert"` and `role="status"` lines every form shows its outcome in. */
export function outcomeLines(): { error: HTMLParagraphElement; notice: HTMLParagraphElement } {
  return {
    error: h('p', { class: 'error', role: 'alert', 'data-testid': 'error', hidden: true }),
    notice: h('p', { class: 'notice', role: 'status', 'data-testid': 'notice', hidden: true }),
  }
}
