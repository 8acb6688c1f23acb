import { readReason } from '@breakwater/client'
import type { CommandContext } from '../context.js'
import { CommandError, NotSignedIn, rephrase } from '../errors.js'
import { readSecret, UsageError } from '../prompt.js'

const USAGE = 'Usage: breakwater mfa enable, or breakwater mfa disable'

/** Tries at the first code: a typo should not cost scanning a new secret. */
const CONFIRM_ATTEMPTS = 3

const MISSING_CODE =
  'A code from the authenticator app is required (type it at the prompt or pipe it on stdin).'

/** `mfa enable` / `mfa disable` (signed in): the authenticator-app second factor (SPEC §10). */
export async function mfa(ctx: CommandContext, action: string | undefined): Promise<void> {
  if (action !== 'enable' && action !== 'disable') throw new UsageError(USAGE)
  if (!(await ctx.store.get())) throw new NotSignedIn()
  await (action === 'enable' ? enable(ctx) : disable(ctx))
}

// Spaces copied along ("123 456") are no part of a code; a malformed one costs no request.
async function readCode(prompt: string): Promise<string> {
  const code = (await readSecret(prompt, MISSING_CODE)).replace(/\s+/g, '')
  if (!/^\d{6}$/.test(code)) throw new CommandError('A code from the app is 6 digits.')
  return code
}

/**
 * Enrols an authenticator app: prints the otpauth URI and the secret (for the
 * app; the only secrets this CLI ever prints, with the recovery codes), asks a
 * code from the app to confirm it, then prints the 10 recovery codes, once.
 * Until confirmed nothing changes: sign-in stays password only.
 */
async function enable(ctx: CommandContext): Promise<void> {
  const { secret, uri } = await ctx.client.mfa.totp.enroll.mutate()
  ctx.out('Add this account to your authenticator app: open or scan the link, or type the secret.')
  ctx.out(`  ${uri}`)
  ctx.out(`  Secret: ${secret}`)
  let recoveryCodes: string[] | undefined
  for (let attempt = 1; !recoveryCodes; attempt++) {
    const code = await readCode('Code from the app, to confirm: ')
    try {
      recoveryCodes = (await ctx.client.mfa.totp.confirm.mutate({ code })).recoveryCodes
    } catch (error) {
      if (readReason(error) !== 'INVALID_CREDENTIALS') throw error
      if (attempt >= CONFIRM_ATTEMPTS) {
        throw new CommandError(
          'Wrong code: two-factor sign-in is still off. Run breakwater mfa enable again.',
          { cause: error },
        )
      }
      // The enrolment stays pending: the next code confirms it.
      ctx.note('Wrong code, try again with the one the app shows now.')
    }
  }
  ctx.out('Two-factor sign-in is on: sign-ins now ask for a code from the app.')
  ctx.out(
    'Recovery codes, each works once when the app is not at hand. Store them somewhere safe now: they are not shown again.',
  )
  for (const code of recoveryCodes) ctx.out(`  ${code}`)
}

/** Asks a current code from the app and removes the factor; its recovery codes stop working. */
async function disable(ctx: CommandContext): Promise<void> {
  const code = await readCode('Code from your authenticator app: ')
  await rephrase(ctx.client.mfa.totp.disable.mutate({ code }), {
    // Also the answer when no app is set up: the server does not say which.
    INVALID_CREDENTIALS: 'Wrong code, or no authenticator app is set up: nothing changed.',
  })
  ctx.out('Two-factor sign-in is off; the recovery codes no longer work.')
}
