export type { AuditEvent } from './audit.js'
export {
  type CommandOutput,
  type CommandSettings,
  commandSettingsFromEnv,
  runBreakwaterCommand,
} from './cli/command.js'
export { BreakwaterError, type BreakwaterReason } from './errors.js'
export { type AuthenticatedSession, readAccessToken } from './guard/authenticate.js'
export {
  acceptPassword,
  PASSWORD_MAX_CODE_POINTS,
  PASSWORD_MIN_CODE_POINTS,
} from './guard/password-policy.js'
export type {
  BreakwaterHooks,
  NewUserInput,
  TeamTransaction,
} from './hooks.js'
export { COOKIE_NAMES } from './http/cookies.js'
export { CSRF_HEADER } from './http/csrf.js'
export { type BreakwaterUser, type SessionGuardOptions, sessionGuard } from './http/guard.js'
export { JWKS_PATH } from './http/jwks.js'
export { rotateSigningKeys } from './keys/keyring.js'
export { rewrapSigningKeys } from './keys/rewrap.js'
export {
  DEFAULT_TEMPLATES,
  escapeHtml,
  type MailContent,
  type MailContext,
  type MailTemplates,
} from './mail/templates.js'
export {
  type BreakwaterOptions,
  type BreakwaterSettings,
  checkOptions,
  DEFAULTS,
  type Duration,
  type MailOptions,
  type OptionProblem,
  type RateLimit,
} from './options.js'
export { breakwater, breakwater as default } from './plugin.js'
export type { UserFieldsSchema } from './router/builders.js'
export {
  type BreakwaterProcedures,
  type BreakwaterRouter,
  breakwaterRouter,
  type CreateBreakwaterOptions,
  createBreakwater,
} from './router/index.js'
export type { SessionListItem, SessionView, TokensView, UserView } from './router/views.js'
export { BreakwaterSetupError } from './setup-error.js'
export {
  type BreakwaterContext,
  type BreakwaterErrorData,
  breakwaterErrorFormatter,
  mergeRouters,
  protectedProcedure,
  publicProcedure,
  router,
  type WithBreakwaterReason,
} from './trpc.js'
