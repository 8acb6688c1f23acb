import type { RegistrationResponseJSON } from '@simplewebauthn/server'
import { requireRecentAuth } from '../guard/step-up.js'
import {
  listUserPasskeys,
  passkeyReauthenticationOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  removeUserPasskey,
  renameUserPasskey,
} from '../session/passkeys.js'
import type { Builders } from './builders.js'
import { passkeyIdInput, passkeyRegistration, passkeyRename } from './inputs.js'
import { clientInfo } from './issue.js'

/**
 * The `passkeys.*` procedures (SPEC §10, shape documented in the README): a
 * signed-in user's named passkeys. Adding or removing one is a factor change:
 * it demands a recent proof of a factor (step-up).
 */
export function passkeysProcedures({ protectedProcedure }: Builders) {
  return {
    list: protectedProcedure.query(async ({ ctx }) => ({
      passkeys: await listUserPasskeys(ctx.runtime, ctx.session),
    })),
    // Step-up in the session layer: a user with TOTP must have proved a second factor.
    registrationOptions: protectedProcedure.mutation(async ({ ctx }) =>
      passkeyRegistrationOptions(ctx.runtime, ctx.session),
    ),
    register: protectedProcedure.input(passkeyRegistration).mutation(async ({ ctx, input }) => {
      const passkey = await registerPasskey(
        ctx.runtime,
        ctx.session,
        // Shape-checked by the input schema; the library verifies the rest.
        { response: input.response as RegistrationResponseJSON, name: input.name },
        clientInfo(ctx.req),
      )
      return { passkey }
    }),
    rename: protectedProcedure.input(passkeyRename).mutation(async ({ ctx, input }) => {
      await renameUserPasskey(ctx.runtime, ctx.session, input)
      return { ok: true as const }
    }),
    remove: protectedProcedure.input(passkeyIdInput).mutation(async ({ ctx, input }) => {
      requireRecentAuth(ctx.runtime, ctx.session)
      await removeUserPasskey(ctx.runtime, ctx.session, input.id, clientInfo(ctx.req))
      return { ok: true as const }
    }),
    /** Options for `auth.reauthenticate({ passkey })`: one of the signed-in user's passkeys. */
    reauthenticationOptions: protectedProcedure.mutation(async ({ ctx }) =>
      passkeyReauthenticationOptions(ctx.runtime, ctx.session),
    ),
  }
}
