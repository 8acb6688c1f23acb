import { requireRecentAuth } from '../guard/step-up.js'
import { confirmTotp, disableTotpFactor, enrollTotp } from '../session/totp.js'
import type { Builders } from './builders.js'
import { totpCodeInput } from './inputs.js'
import { clientInfo } from './issue.js'

/**
 * The `mfa.*` procedures (SPEC §10). Changing factors is a credential change:
 * each demands a recent proof of a factor (step-up).
 */
export function mfaProcedures({ protectedProcedure }: Builders) {
  return {
    totp: {
      enroll: protectedProcedure.mutation(async ({ ctx }) => {
        requireRecentAuth(ctx.runtime, ctx.session)
        return enrollTotp(ctx.runtime, ctx.session)
      }),
      confirm: protectedProcedure.input(totpCodeInput).mutation(async ({ ctx, input }) => {
        requireRecentAuth(ctx.runtime, ctx.session)
        const recoveryCodes = await confirmTotp(
          ctx.runtime,
          ctx.session,
          input.code,
          clientInfo(ctx.req),
        )
        return { recoveryCodes }
      }),
      disable: protectedProcedure.input(totpCodeInput).mutation(async ({ ctx, input }) => {
        requireRecentAuth(ctx.runtime, ctx.session)
        await disableTotpFactor(ctx.runtime, ctx.session, input.code, clientInfo(ctx.req))
        return { ok: true as const }
      }),
    },
  }
}
