/**
 * What a Breakwater server and its clients agree on, in one place: reason
 * codes and what a client does about each, the wire types, cookie and header
 * names, procedure paths. Pure data and types: no I/O, any runtime.
 *
 * @module
 */
export {
  COOKIE_NAMES,
  CSRF_HEADER,
  DEFAULT_PREFIX,
  JWKS_PATH,
  PROCEDURES,
  type ProcedurePaths,
  procedurePaths,
  refreshPath,
} from './http.js'
export {
  BREAKWATER_REASONS,
  type BreakwaterReason,
  isBreakwaterReason,
  nextMove,
  REASON_CODES,
} from './reasons.js'
export type {
  SessionListItem,
  SessionView,
  TokensView,
  Transport,
  UserView,
} from './wire.js'
