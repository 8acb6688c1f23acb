import type { TokensView } from '@breakwater/protocol'
import type { HTTPLinkOptions } from '@trpc/client'
import type { AnyTRPCClientTypes } from '@trpc/server'
import type { WireTransformer } from './transformer.js'

/** `tokens` as the server returns them in bearer transport (SPEC §3). */
export type Tokens = TokensView

/** What `auth.refresh` answers with. */
export interface RefreshResult {
  session?: { accessTokenExpiresAt?: string }
  tokens?: Tokens
}

/** The part of a tRPC v11 error shape (`error` of a response) the client reads. */
interface WireError {
  message?: string
  data?: { reason?: string; httpStatus?: number }
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

/**
 * tRPC's own fetch type (`FetchEsque`, which @trpc/client uses but does not
 * export by name): what `httpLink({ fetch })` and `httpBatchLink({ fetch })`
 * take. The `fetch` option accepts any of them (`window.fetch`, Node's, undici's,
 * a wrapper), and `auth.fetch` is one, so it goes straight into your HTTP link.
 */
export type FetchEsque = NonNullable<HTTPLinkOptions<AnyTRPCClientTypes>['fetch']>

/** A fetch as tests write one: the global one, or a cookie-jar wrapper. It fits {@link FetchEsque}. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>

/** What the client reads from a response beyond tRPC's `ResponseEsque`; a real `Response` has it all. */
interface ResponseDetails {
  status?: number
  headers?: { get(name: string): string | null }
}

/**
 * The HTTP status of a response from a {@link FetchEsque}. tRPC's type does not
 * promise one (only `ok`); every real fetch has it. Without one: 200 when ok,
 * else 0, which the refresh treats as a network failure (retried, never a sign-out).
 */
export function statusOf(response: { ok: boolean }): number {
  const { status } = response as ResponseDetails
  return typeof status === 'number' ? status : response.ok ? 200 : 0
}

/** A response header, when the fetch's response has headers (a real `Response` does). */
export function headerOf(response: object, name: string): string | null {
  const { headers } = response as ResponseDetails
  return typeof headers?.get === 'function' ? headers.get(name) : null
}

/** What the refresh request needs to know beyond its input. */
export interface RefreshRequest {
  fetch: FetchEsque
  /** The tRPC endpoint. */
  url: string
  /** The refresh procedure's path: `auth.refresh`, or `account.auth.refresh` under a namespace. */
  path: string
  transformer: WireTransformer
  headers: Readonly<Record<string, string>>
  /** The procedure's input before serializing: `{ refreshToken }` (bearer), `undefined` (cookie). */
  input: unknown
}

/** An error answer, decoded; `undefined` when the body is no tRPC response we can read (a proxy's 502 page). */
type Decoded = { data: RefreshResult } | { error: WireError } | undefined

/**
 * Decodes a tRPC response as tRPC's own links do (`transformResult` in
 * @trpc/server): the transformer deserializes `result.data` and, for an
 * error, the whole error shape, `data.reason` included.
 */
function decode(body: unknown, transformer: WireTransformer): Decoded {
  if (typeof body !== 'object' || body === null) return undefined
  try {
    if ('error' in body) {
      const error = transformer.deserialize(body.error) as WireError | null
      return typeof error === 'object' && error !== null ? { error } : undefined
    }
    const result = (body as { result?: { data?: unknown } }).result
    if (typeof result !== 'object' || result === null) return undefined
    const data = transformer.deserialize(result.data) as RefreshResult | undefined
    return typeof data === 'object' && data !== null ? { data } : undefined
  } catch {
    // A body the transformer refuses is as unreadable as one that is not JSON.
    return undefined
  }
}

/**
 * `POST {url}/{path}`, unbatched: the refresh cookie is scoped to that exact
 * path (SPEC §5), so it must never ride in a batch URL. The body is encoded as
 * tRPC's `httpLink` encodes a mutation's: the serialized input as JSON, no body
 * when that is `undefined`. Throws {@link RefreshRejected} for an error answer
 * and lets network errors through.
 */
export async function postRefresh(request: RefreshRequest): Promise<RefreshResult> {
  const input = request.transformer.serialize(request.input)
  const response = await request.fetch(`${request.url.replace(/\/+$/, '')}/${request.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    ...(input === undefined ? {} : { body: JSON.stringify(input) }),
  })
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  const decoded = decode(body, request.transformer)
  if (response.ok && decoded && 'data' in decoded) return decoded.data
  const error = decoded && 'error' in decoded ? decoded.error : undefined
  const status = statusOf(response)
  throw new RefreshRejected(
    status,
    error?.data?.reason,
    error?.message ?? `${request.path} answered HTTP ${status}`,
  )
}
