/**
 * Why an access token was refused. The server maps these one to one onto the
 * `data.reason` codes of its tRPC errors, and the client decides its next move
 * from them: refresh on `TOKEN_EXPIRED`, never on `TOKEN_INVALID`.
 */
export type TokenErrorReason = 'TOKEN_INVALID' | 'TOKEN_EXPIRED'

/**
 * Thrown for every token that does not verify. Misuse by the caller (a bad
 * option, a key of the wrong kind) throws a plain `TypeError` instead, so that
 * a programming error never looks like a bad token.
 */
export class TokenError extends Error {
  readonly reason: TokenErrorReason

  constructor(reason: TokenErrorReason, message: string) {
    super(message)
    this.name = 'TokenError'
    this.reason = reason
  }
}

/** The token's signature, shape or claims are wrong: no refresh will fix it. */
export class TokenInvalidError extends TokenError {
  constructor(message: string) {
    super('TOKEN_INVALID', message)
    this.name = 'TokenInvalidError'
  }
}

/** A genuine token whose `exp` (plus leeway) has passed: the client should refresh. */
export class TokenExpiredError extends TokenError {
  constructor(message = 'access token expired') {
    super('TOKEN_EXPIRED', message)
    this.name = 'TokenExpiredError'
  }
}

export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError
}
