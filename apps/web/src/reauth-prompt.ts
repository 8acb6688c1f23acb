/**
 * The step-up question (SPEC §10) between the client, which asks it when a call
 * is refused with `REAUTH_REQUIRED` (`onReauthRequired`, api.ts), and
 * `<ReauthDialog>`, which shows it and answers. The client already shares one
 * question among the calls refused together; asking again while one is open
 * shares its answer all the same.
 */
export class ReauthPrompt {
  readonly #listeners = new Set<() => void>()
  #asked: Promise<boolean> | undefined
  #settle: ((done: boolean) => void) | undefined

  /**
   * `true` once the user proved it is them (the client then retries the call),
   * `false` when they cancelled. With no dialog on the page to ask in, `false`
   * at once: the call fails as it came.
   */
  readonly ask = (): Promise<boolean> => {
    if (this.#listeners.size === 0) return Promise.resolve(false)
    this.#asked ??= new Promise<boolean>((resolve) => {
      this.#settle = resolve
    })
    this.#notify()
    return this.#asked
  }

  /** The dialog's answer; nothing when no question is open. */
  readonly answer = (done: boolean): void => {
    const settle = this.#settle
    if (!settle) return
    this.#asked = undefined
    this.#settle = undefined
    settle(done)
    this.#notify()
  }

  /** For `useSyncExternalStore`, with {@link isOpen}. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Whether a question waits for an answer. */
  readonly isOpen = (): boolean => this.#asked !== undefined

  #notify(): void {
    for (const listener of [...this.#listeners]) listener()
  }
}
