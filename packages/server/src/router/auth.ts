import { BreakwaterError } from '../errors.js'
import { readAccessToken } from '../guard/authenticate.js'
import { requireRecentAuth } from '../guard/step-up.js'
import { clearSessionCookies, readRefreshCookie, setAccessCookie } from '../http/cookies.js'
import { assertSameSite } from '../http/csrf.js'
import {
  requestEmailVerification,
  requestPasswordReset,
  resetPassword,
  verifyEmail,
} from '../session/account-mail.js'
import { changePassword } from '../session/change-password.js'
import { currentSession } from '../session/current.js'
import { deleteAccount } from '../session/delete-account.js'
import { confirmEmailChange, requestEmailChange } from '../session/email-change.js'
import { signInWithPasskey } from '../session/passkey-sign-in.js'
import { passkeySignInOptions } from '../session/passkeys.js'
import { reauthenticate } from '../session/reauthenticate.js'
import { refresh } from '../session/refresh.js'
import { verifySecondFactor } from '../session/second-factor.js'
import { login, register } from '../session/sign-in.js'
import { requestSignInCode, signInWithCode } from '../session/sign-in-code.js'
import { logout, logoutAll } from '../session/sign-out.js'
import { refreshExpiry } from '../session/tokens.js'
import type { Builders } from './builders.js'
import {
  accountDeletion,
  changePasswordInput,
  codeSignIn,
  credentials,
  emailChangeRequest,
  linkTokenInput,
  logoutAllInput,
  logoutInput,
  passkeySignIn,
  passkeySignInOptionsInput,
  passwordReset,
  passwordResetRequest,
  reauthenticationInput,
  refreshInput,
  secondFactorInput,
  signInCodeRequest,
} from './inputs.js'
import { clientInfo, deliver } from './issue.js'
import { sessionView } from './views.js'

// The tRPC side of the session layer (../session): each procedure reads the
// transport, applies the cookie and CSRF rules, calls one session function,
// and delivers the result as cookies or in the body.

/** The `auth.*` procedures on the given builders (Breakwater's instance or a team's). */
export function authProcedures({ publicProcedure, protectedProcedure, users }: Builders) {
  return {
    register: publicProcedure.input(users.registration).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      if (input.transport === 'cookie') assertSameSite(req, runtime.options, 'sign-in')
      const signedIn = await register(runtime, users.split(input), clientInfo(req))
      return {
        user: users.view(signedIn.user),
        ...deliver(runtime, req, res, signedIn, input.transport),
      }
    }),

    login: publicProcedure.input(credentials).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      if (input.transport === 'cookie') assertSameSite(req, runtime.options, 'sign-in')
      const outcome = await login(runtime, input, clientInfo(req))
      // A second factor is due (SPEC §10): no session, no cookie yet.
      if ('mfaRequired' in outcome) return outcome
      return {
        user: users.view(outcome.user),
        ...deliver(runtime, req, res, outcome, input.transport),
      }
    }),

    /**
     * WebAuthn options for `auth.loginWithPasskey` (no input: any passkey of this
     * site) or, with a login's `challenge`, for `auth.verifySecondFactor({ passkey })`.
     */
    passkeyOptions: publicProcedure
      .input(passkeySignInOptionsInput)
      .mutation(async ({ ctx, input }) =>
        passkeySignInOptions(ctx.runtime, input ?? {}, clientInfo(ctx.req)),
      ),

    loginWithPasskey: publicProcedure.input(passkeySignIn).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      if (input.transport === 'cookie') assertSameSite(req, runtime.options, 'sign-in')
      // Shape-checked by the input schema; the library verifies the rest.
      const signedIn = await signInWithPasskey(
        runtime,
        input.response as Parameters<typeof signInWithPasskey>[1],
        clientInfo(req),
      )
      return {
        user: users.view(signedIn.user),
        ...deliver(runtime, req, res, signedIn, input.transport),
      }
    }),

    verifySecondFactor: publicProcedure
      .input(secondFactorInput)
      .mutation(async ({ ctx, input }) => {
        const { runtime, req, res } = ctx
        if (input.transport === 'cookie') assertSameSite(req, runtime.options, 'sign-in')
        const signedIn = await verifySecondFactor(runtime, input, clientInfo(req))
        return {
          user: users.view(signedIn.user),
          ...deliver(runtime, req, res, signedIn, input.transport),
        }
      }),

    reauthenticate: protectedProcedure
      .input(reauthenticationInput)
      .mutation(async ({ ctx, input }) => {
        const { runtime, req, res, session: caller } = ctx
        const { session, access } = await reauthenticate(runtime, caller, input, clientInfo(req))
        const view = sessionView(session, access.expiresAt)
        if (caller.via === 'cookie') {
          setAccessCookie(
            req,
            res,
            runtime.options,
            { accessToken: access.token, refreshTokenExpiresAt: refreshExpiry(session) },
            runtime.clock(),
          )
          return { session: view }
        }
        return {
          session: view,
          tokens: { accessToken: access.token, accessTokenExpiresAt: view.accessTokenExpiresAt },
        }
      }),

    refresh: publicProcedure.input(refreshInput).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      const fromBody = input?.refreshToken
      const transport = fromBody !== undefined ? 'bearer' : 'cookie'
      const presented = fromBody ?? readRefreshCookie(req, runtime.options)
      if (!presented) throw new BreakwaterError('REFRESH_MISSING')
      if (transport === 'cookie') assertSameSite(req, runtime.options, 'session')
      try {
        return deliver(
          runtime,
          req,
          res,
          await refresh(runtime, presented, clientInfo(req)),
          transport,
        )
      } catch (error) {
        // A refresh cookie that can never work again is cleared, so the browser stops sending it.
        const reason = error instanceof BreakwaterError ? error.reason : undefined
        if (transport === 'cookie' && reason !== 'RATE_LIMITED' && reason !== 'DB_UNAVAILABLE')
          clearSessionCookies(req, res, runtime.options)
        throw error
      }
    }),

    logout: publicProcedure.input(logoutInput).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      const access = readAccessToken(req, runtime.options)
      const refreshCookie = readRefreshCookie(req, runtime.options)
      // Unless the call is bearer-only, it answers with cookie-clearing headers
      // (which a browser applies even to a forged cross-site post that carried
      // no cookie) or is authenticated by a cookie: either way it needs the
      // CSRF proof, whatever the body holds (SPEC §5).
      const bearerOnly =
        access?.via === 'bearer' ||
        (access === undefined && refreshCookie === undefined && input?.refreshToken !== undefined)
      if (!bearerOnly) assertSameSite(req, runtime.options, 'session')
      await logout(
        runtime,
        {
          accessToken: access?.token,
          refreshToken: input?.refreshToken ?? (access ? undefined : refreshCookie),
        },
        clientInfo(req),
      )
      if (!bearerOnly) clearSessionCookies(req, res, runtime.options)
      return { ok: true as const }
    }),

    logoutAll: protectedProcedure.input(logoutAllInput).mutation(async ({ ctx, input }) => {
      const { runtime, req, res, session } = ctx
      const keepCurrent = input?.keepCurrent === true
      const revoked = await logoutAll(runtime, session, keepCurrent, clientInfo(req))
      if (!keepCurrent && session.via === 'cookie') clearSessionCookies(req, res, runtime.options)
      return { revoked }
    }),

    me: protectedProcedure.query(async ({ ctx }) => {
      const { user, session } = await currentSession(ctx.runtime, ctx.session)
      return {
        user: users.view(user),
        session: sessionView(session, new Date(ctx.session.claims.exp * 1000)),
      }
    }),

    changePassword: protectedProcedure
      .input(changePasswordInput)
      .mutation(async ({ ctx, input }) => {
        requireRecentAuth(ctx.runtime, ctx.session)
        await changePassword(ctx.runtime, ctx.session, input, clientInfo(ctx.req))
        return { ok: true as const }
      }),

    requestEmailVerification: protectedProcedure.mutation(async ({ ctx }) => {
      await requestEmailVerification(ctx.runtime, ctx.session, clientInfo(ctx.req))
      return { ok: true as const }
    }),

    verifyEmail: publicProcedure.input(linkTokenInput).mutation(async ({ ctx, input }) => {
      await verifyEmail(ctx.runtime, input.token, clientInfo(ctx.req))
      return { ok: true as const }
    }),

    requestPasswordReset: publicProcedure
      .input(passwordResetRequest)
      .mutation(async ({ ctx, input }) => {
        await requestPasswordReset(ctx.runtime, input.email, clientInfo(ctx.req))
        return { ok: true as const }
      }),

    resetPassword: publicProcedure.input(passwordReset).mutation(async ({ ctx, input }) => {
      await resetPassword(ctx.runtime, input, clientInfo(ctx.req))
      return { ok: true as const }
    }),

    requestEmailChange: protectedProcedure
      .input(emailChangeRequest)
      .mutation(async ({ ctx, input }) => {
        requireRecentAuth(ctx.runtime, ctx.session)
        await requestEmailChange(ctx.runtime, ctx.session, input, clientInfo(ctx.req))
        return { ok: true as const }
      }),

    confirmEmailChange: publicProcedure.input(linkTokenInput).mutation(async ({ ctx, input }) => {
      await confirmEmailChange(ctx.runtime, input.token, clientInfo(ctx.req))
      return { ok: true as const }
    }),

    requestSignInCode: publicProcedure.input(signInCodeRequest).mutation(async ({ ctx, input }) => {
      await requestSignInCode(ctx.runtime, input.email, clientInfo(ctx.req))
      return { ok: true as const }
    }),

    signInWithCode: publicProcedure.input(codeSignIn).mutation(async ({ ctx, input }) => {
      const { runtime, req, res } = ctx
      if (input.transport === 'cookie') assertSameSite(req, runtime.options, 'sign-in')
      const outcome = await signInWithCode(runtime, input, clientInfo(req))
      if ('mfaRequired' in outcome) return outcome
      return {
        user: users.view(outcome.user),
        ...deliver(runtime, req, res, outcome, input.transport),
      }
    }),

    deleteAccount: protectedProcedure.input(accountDeletion).mutation(async ({ ctx, input }) => {
      const { runtime, req, res, session } = ctx
      requireRecentAuth(runtime, session)
      await deleteAccount(runtime, session, input.currentPassword, clientInfo(req))
      if (session.via === 'cookie') clearSessionCookies(req, res, runtime.options)
      return { ok: true as const }
    }),
  }
}
