export {
  BreakwaterAuth,
  type BreakwaterAuthOptions,
  createBreakwaterAuth,
  type SessionExpiredEvent,
  type SessionSnapshot,
} from './auth.js'
export type { Clock } from './clock.js'
export type { CoordinationOptions } from './coordination/broadcast.js'
export { type BreakwaterClientOptions, createBreakwaterClient } from './create-client.js'
export {
  BreakwaterClientError,
  type BreakwaterReason,
  type ClientReason,
  isSessionEndReason,
  RefreshUnavailableError,
  readReason,
  type SessionEndReason,
  SessionExpiredError,
} from './errors.js'
export { refreshLink } from './links/refresh-link.js'
export type { ProcedurePaths } from './procedure-paths.js'
export { memoryTokenStore } from './store/memory.js'
export type { TokenStore } from './store/types.js'
export type { TransformerOption } from './transformer.js'
export type { FetchEsque, Tokens } from './wire.js'
