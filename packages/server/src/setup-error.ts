/**
 * Why the plugin cannot start: a bad option (`OPTION_INVALID`), a missing or
 * unusable key-encryption secret (`SECRET_INVALID`), or a stored signing key
 * no configured secret opens (`SIGNING_KEY_UNREADABLE`). The message is one
 * line starting with `@breakwater/server:` and never holds a secret, so a
 * server prints it as is and exits.
 */
export class BreakwaterSetupError extends TypeError {
  readonly code: 'OPTION_INVALID' | 'SECRET_INVALID' | 'SIGNING_KEY_UNREADABLE'
  /** Every bad option, when there was more than one thing wrong. */
  readonly problems: readonly { readonly option: string; readonly message: string }[]

  constructor(
    code: BreakwaterSetupError['code'],
    message: string,
    problems: readonly { option: string; message: string }[] = [],
  ) {
    super(`@breakwater/server: ${message}`)
    this.name = 'BreakwaterSetupError'
    this.code = code
    this.problems = problems
  }
}
