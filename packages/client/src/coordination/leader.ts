/** The slice of the Web Locks API leadership needs. */
interface LockManagerLike {
  request<T>(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<T>,
  ): Promise<T>
}

/** `navigator.locks` when the runtime has it (browsers), else `undefined` (Node 20). */
export function leaderLocks(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  return typeof locks?.request === 'function' ? locks : undefined
}

/**
 * Runs `lead` in one tab at a time among those asking under `name`: the tab
 * holding the Web Lock `name` leads until `lead` settles or the tab closes
 * (the browser releases a closed tab's locks), then the longest-waiting tab
 * takes over. Aborting `signal` withdraws a waiting request; a leader must
 * watch `signal` itself and return.
 *
 * Without Web Locks every caller leads on its own (the caller decides whether
 * that is acceptable).
 */
export function whileLeader(
  locks: LockManagerLike | undefined,
  name: string,
  signal: AbortSignal,
  lead: () => Promise<void>,
): Promise<void> {
  if (!locks) return lead()
  return locks.request(name, { signal }, lead).catch((error: unknown) => {
    // Withdrawn before it was granted: signed out, or the client closed.
    if (signal.aborted) return
    throw error
  })
}
