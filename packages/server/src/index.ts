export type { AuditEvent } from './audit.js'
export { BreakwaterError, type BreakwaterReason } from './errors.js'
export { type AuthenticatedSession, readAccessToken } from './guard/authenticate.js'
export {
  acceptPassword,
  PASSWORD_MAX_CODE_POINTS,
  PASSWORD_MIN_CODE_POINTS,
} from './guard/password-policy.js'
export { COOKIE_NAMES } from './http/cookies.js'
export { CSRF_HEADER } from './http/csrf.js'
export { type SessionGuardOptions, sessionGuard } from './http/guard.js'
export { JWKS_PATH } from './http/jwks.js'
export { rotateSigningKeys } from './keys/keyring.js'
export { rewrapSigningKeys } from './keys/rewrap.js'
export {
  type BreakwaterOptions,
  type BreakwaterSettings,
  checkOptions,
  DEFAULTS,
  type Duration,
  type OptionProblem,
  type RateLimit,
} from './options.js'
export { breakwater, breakwater as default } from './plugin.js'
export { type BreakwaterRouter, breakwaterRouter } from './router/index.js'
export type { SessionListItem, SessionView, TokensView, UserView } from './router/views.js'
export { BreakwaterSetupError } from './setup-error.js'
export {
  type BreakwaterContext,
  type BreakwaterErrorData,
  mergeRouters,
  protectedProcedure,
  publicProcedure,
  router,
} from './trpc.js'
