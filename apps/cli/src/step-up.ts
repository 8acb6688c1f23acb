import { readReason } from '@breakwater/client'
import { CommandError } from './errors.js'
import { readPassword } from './prompt.js'

export const STEP_UP_PROMPT = 'Confirm it is you — password: '

/** Tries at a wrong password before giving up, as sudo allows. */
const ATTEMPTS = 3

/** Why the last step-up failed, when that says more than `REAUTH_REQUIRED` does. */
export interface StepUpOutcome {
  failure?: unknown
}

/**
 * The client's `onReauthRequired` (SPEC §10 step-up): a credential change was
 * refused because the session last proved a factor too long ago. Asks the
 * password (hidden prompt, or the next line of piped stdin) and renews the
 * session with it; resolves `true` so the client retries the refused call.
 * No answer (stdin ended, the prompt cancelled) resolves `false`: the call
 * fails with `REAUTH_REQUIRED`, which `describe` explains. A wrong password is
 * asked again; a failure other than no answer is kept in `outcome`, since the
 * client only learns `false`.
 */
export function stepUpPrompt(
  reauthenticate: (password: string) => Promise<unknown>,
  note: (line: string) => void,
  outcome: StepUpOutcome,
): () => Promise<boolean> {
  return async () => {
    let refused: unknown
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      let password: string
      try {
        password = await readPassword(STEP_UP_PROMPT)
      } catch {
        break
      }
      try {
        await reauthenticate(password)
        return true
      } catch (error) {
        if (readReason(error) !== 'INVALID_CREDENTIALS') {
          outcome.failure = error
          return false
        }
        refused = error
        if (attempt < ATTEMPTS) note('Wrong password, try again.')
      }
    }
    if (refused)
      outcome.failure = new CommandError('Wrong password: nothing was changed.', { cause: refused })
    return false
  }
}
