import { randomUUID } from 'node:crypto'
import { call, sleep } from './client.js'

/**
 * Whether the instance at `url` refuses `accessToken` because its in-memory revocation
 * set holds the token's session: `revoked`, `live`, or the unexpected reason / status.
 *
 * The call is `sessions.revoke` of a random id that exists nowhere. Every protected
 * procedure authenticates first (signature, expiry, then the instance's revocation set)
 * and only then runs, so `SESSION_REVOKED` from it can only come from that set: the
 * procedure body issues one UPDATE scoped to the random id, which matches no row, reads
 * nothing about the caller's own session, changes nothing, and answers
 * `SESSION_NOT_FOUND` ("authenticated, not revoked here"). `auth.me` or `sessions.list`
 * would not do: they read the `sessions` table and can see the revocation there by
 * themselves, which would hide a broken broadcast.
 */
export async function probeRevocation(url: string, accessToken: string): Promise<string> {
  const reply = await call(url, 'mutation', 'sessions.revoke', {
    input: { sessionId: randomUUID() },
    token: accessToken,
  })
  if (reply.reason === 'SESSION_REVOKED') return 'revoked'
  if (reply.reason === 'SESSION_NOT_FOUND') return 'live'
  return reply.reason ?? `HTTP ${reply.status}`
}

/**
 * Polls every URL (each on its own, every `everyMs`) until it refuses `accessToken`
 * as revoked; resolves with each URL's lag in ms measured from `since`
 * (`performance.now()` time), or `Infinity` for a URL that did not within `timeoutMs`.
 */
export async function revocationLags(
  urls: readonly string[],
  accessToken: string,
  since: number,
  { timeoutMs = 5000, everyMs = 10 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      while (performance.now() - since < timeoutMs) {
        try {
          if ((await probeRevocation(url, accessToken)) === 'revoked')
            return performance.now() - since
        } catch {
          // no answer (instance restarting): keep polling until the deadline
        }
        await sleep(everyMs)
      }
      return Number.POSITIVE_INFINITY
    }),
  )
}
