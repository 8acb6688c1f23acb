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
