/** Where the tRPC router is mounted unless the `prefix` option says otherwise. */
export const DEFAULT_PREFIX = '/trpc'

/** Cookie names of SPEC §5: plain on loopback HTTP, prefixed when Secure. */
export const COOKIE_NAMES = {
  access: { plain: 'bw_access', secure: '__Host-bw_access' },
  refresh: { plain: 'bw_refresh', secure: '__Secure-bw_refresh' },
} as const

/** The header a client sends on cookie-authenticated mutations (SPEC §5). */
export const CSRF_HEADER = 'x-breakwater-csrf'

/** Where the signing keys are published. */
export const JWKS_PATH = '/.well-known/jwks.json'

/** Breakwater's procedure paths under the router's root (SPEC §3). */
export const PROCEDURES = {
  register: 'auth.register',
  login: 'auth.login',
  refresh: 'auth.refresh',
  logout: 'auth.logout',
  logoutAll: 'auth.logoutAll',
  me: 'auth.me',
  changePassword: 'auth.changePassword',
  requestEmailVerification: 'auth.requestEmailVerification',
  verifyEmail: 'auth.verifyEmail',
  requestPasswordReset: 'auth.requestPasswordReset',
  resetPassword: 'auth.resetPassword',
  requestEmailChange: 'auth.requestEmailChange',
  confirmEmailChange: 'auth.confirmEmailChange',
  requestSignInCode: 'auth.requestSignInCode',
  signInWithCode: 'auth.signInWithCode',
  deleteAccount: 'auth.deleteAccount',
  verifySecondFactor: 'auth.verifySecondFactor',
  reauthenticate: 'auth.reauthenticate',
  loginWithPasskey: 'auth.loginWithPasskey',
  listSessions: 'sessions.list',
  revokeSession: 'sessions.revoke',
  watchSession: 'sessions.watch',
} as const

/** Breakwater's procedure paths. */
export type ProcedurePaths = { readonly [K in keyof typeof PROCEDURES]: string }

/**
 * The procedure paths when Breakwater's router sits under `namespace` in a
 * team's router (`t.router({ account: breakwater.router })` → `account.auth.login`).
 * No namespace: {@link PROCEDURES}.
 */
export function procedurePaths(namespace?: string): ProcedurePaths {
  const at = namespace?.replace(/^\.+|\.+$/g, '')
  if (!at) return PROCEDURES
  const entries = Object.entries(PROCEDURES).map(([name, path]) => [name, `${at}.${path}`])
  return Object.freeze(Object.fromEntries(entries)) as ProcedurePaths
}

/**
 * The refresh procedure's URL path, the only one the refresh cookie is sent to
 * (`/trpc/auth.refresh`; `/api/account.auth.refresh` under prefix `/api` and namespace `account`).
 */
export function refreshPath(prefix: string = DEFAULT_PREFIX, namespace?: string): string {
  return `${prefix.replace(/\/+$/, '')}/${procedurePaths(namespace).refresh}`
}
