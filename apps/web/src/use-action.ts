import { useCallback, useRef, useState } from 'react'

/** Where an {@link Action} is: not run yet (or reset), its call out, answered, or failed. */
export type ActionStatus = 'idle' | 'pending' | 'success' | 'error'

/** What {@link useAction} returns. */
export interface Action<Input, Output> {
  /**
   * Makes the call: clears the last outcome, then holds this one. Resolves with
   * the answer (Breakwater's procedures all answer an object), or `undefined`
   * when the call failed (see `error`): it never rejects. The same function on
   * every render.
   */
  run(input: Input): Promise<Output | undefined>
  status: ActionStatus
  /** A call is out. */
  pending: boolean
  /** The last call's failure, if it failed. */
  error: unknown
  /** Back to `idle`: the last outcome is forgotten, and a call still out no longer reports here. */
  reset(): void
}

/**
 * One call of a page that works before sign-in (a reset link, a mailed code, a
 * passkey), with its pending and failure state for the form, on the plain tRPC
 * client. Not TanStack Query's `useMutation`: these pages load on a first visit,
 * and TanStack Query (with `@trpc/tanstack-react-query`) is about 10 kB gzipped
 * that only the signed-in page needs, so it loads with that page (queries.tsx).
 * Sign-in and sign-up themselves are `@breakwater/react`'s `useSignIn`/`useSignUp`.
 *
 * Only the newest call reports: one that a later call (or `reset`) overtook
 * leaves the state alone, though its own caller still gets its answer.
 */
export function useAction<Input = void, Output = unknown>(
  call: (input: Input) => Promise<Output>,
): Action<Input, Output> {
  const [state, setState] = useState<{ status: ActionStatus; error: unknown }>({
    status: 'idle',
    error: undefined,
  })
  // The newest `call` (often an arrow made at each render), for a `run` that never changes.
  const latest = useRef(call)
  latest.current = call
  const newest = useRef(0)

  const run = useCallback(async (input: Input) => {
    const id = ++newest.current
    setState({ status: 'pending', error: undefined })
    try {
      const output = await latest.current(input)
      if (id === newest.current) setState({ status: 'success', error: undefined })
      return output
    } catch (error) {
      if (id === newest.current) setState({ status: 'error', error })
      return undefined
    }
  }, [])
  const reset = useCallback(() => {
    newest.current++
    setState({ status: 'idle', error: undefined })
  }, [])

  return {
    run,
    status: state.status,
    pending: state.status === 'pending',
    error: state.error,
    reset,
  }
}
