export type { AccessTokenClaims, Clock } from './access/claims.js'
export { ACCESS_TOKEN_TYPE, MAX_CLOCK_LEEWAY_SECONDS } from './access/claims.js'
export type {
  AccessTokenSigner,
  AccessTokenSignerOptions,
  AccessTokenSubject,
  SignedAccessToken,
} from './access/sign.js'
export { createAccessTokenSigner, signAccessToken } from './access/sign.js'
export type {
  AccessTokenVerifier,
  AccessTokenVerifierOptions,
  VerifyOptions,
} from './access/verify.js'
export { createAccessTokenVerifier, verifyAccessToken } from './access/verify.js'
export { decodeAccessTokenExpiry } from './decode/expiry.js'
export { parseDuration, toSeconds } from './duration.js'
export type { TokenErrorReason } from './errors.js'
export { isTokenError, TokenError, TokenExpiredError, TokenInvalidError } from './errors.js'
export type { RemoteVerifier, RemoteVerifierOptions } from './jwks/remote.js'
export { createRemoteVerifier } from './jwks/remote.js'
export type { GenerateSigningKeyOptions } from './keys/generate.js'
export { generateSigningKey } from './keys/generate.js'
export type { Jwks, SigningKeys, VerificationKey, VerificationKeys } from './keys/key-set.js'
export { KeySet } from './keys/key-set.js'
export type {
  KeyState,
  PublicJwk,
  SigningAlgorithm,
  SigningKey,
  SigningKeyJson,
} from './keys/signing-key.js'
export {
  exportSigningKey,
  importSigningKey,
  KEY_STATES,
  SIGNING_ALGORITHMS,
} from './keys/signing-key.js'
export { hashRefreshToken, safeEqual } from './refresh/hash.js'
export { isRefreshTokenShape, mintRefreshToken, REFRESH_TOKEN_BYTES } from './refresh/mint.js'
export { openSuccessor, sealSuccessor } from './refresh/successor.js'
export { generateSecret, MIN_SECRET_BYTES, parseSecret, parseSecrets } from './secrets/secret.js'
export {
  createSecretBox,
  type SecretBox,
  SecretBoxError,
  type SecretBoxErrorCode,
} from './secrets/secret-box.js'
