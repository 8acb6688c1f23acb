import { PROCEDURES, type TokensView } from '@breakwater/protocol'

/** `tokens` as the server returns them in bearer transport (SPEC §3). */
export type Tokens = TokensView

/** What `auth.refresh` answers with. */
export interface RefreshResult {
  session?: { accessTokenExpiresAt?: string }
  tokens?: Tokens
}

/** The part of a tRPC v11 error response the client reads. */
interface WireError {
  error?: { message?: string; data?: { reason?: string; httpStatus?: number } }
}

/** A refresh the server answered with an error (as opposed to a failed request). */
export class RefreshRejected extends Error {
  readonly reason: string | undefined
  readonly status: number

  constructor(status: number, reason: string | undefined, message: string) {
    super(message)
    this.name = 'RefreshRejected'
    this.status = status
    this.reason = reason
  }
}

/** Whether a value has the shape of {@link Tokens}. */
export function isTokens(value: unknown): value is Tokens {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.accessToken === 'string' &&
    typeof v.refreshToken === 'string' &&
    typeof v.accessTokenExpiresAt === 'string' &&
    typeof v.refreshTokenExpiresAt === 'string'
  )
}

/** `accessTokenExpiresAt` of a procedure's result (`{session}` of login, refresh, me), in ms. */
export function expiryOfResult(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const session = (data as { session?: { accessTokenExpiresAt?: unknown } }).session
  const at = session?.accessTokenExpiresAt
  if (typeof at !== 'string') return undefined
  const ms = Date.parse(at)
  return Number.isNaN(ms) ? undefined : ms
}

/** A fetch: the global one, or a test's cookie-jar wrapper. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>

/**
 * `POST {url}/auth.refresh`, unbatched: the refresh cookie is scoped to that
 * exact path (SPEC §5), so it must never ride in a batch URL. Throws
 * {@link RefreshRejected} for an error answer and lets network errors through.
 */
export async function postRefresh(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
): Promise<RefreshResult> {
  const response = await fetchImpl(`${url.replace(/\/+$/, '')}/${PROCEDURES.refresh}`, {
    method: 'POST',
    ...init,
  })
  let body: ({ result?: { data?: RefreshResult } } & WireError) | undefined
  try {
    body = (await response.json()) as typeof body
  } catch {
    body = undefined
  }
  if (response.ok && body?.result?.data) return body.result.data
  throw new RefreshRejected(
    response.status,
    body?.error?.data?.reason,
    body?.error?.message ?? `auth.refresh answered HTTP ${response.status}`,
  )
}
