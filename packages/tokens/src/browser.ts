// The browser-safe entry: Web APIs only, no `node:` imports.
export { decodeAccessTokenExpiry } from './decode/expiry.js'
export { parseDuration, toSeconds } from './duration.js'
export type { TokenErrorReason } from './errors.js'
export { isTokenError, TokenError, TokenExpiredError, TokenInvalidError } from './errors.js'
