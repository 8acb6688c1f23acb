import type { PGlite } from '@electric-sql/pglite'
import { parseRevocationPayload, revocationChannel } from '../queries/revocations.js'
import type { RevocationHub, RevocationSource } from './feed.js'

/**
 * The embedded database lives in this process only, so "every process" is this one:
 * PGlite delivers the same `pg_notify` the revoke queries send to its in-process
 * listeners when the revoking statement commits. Same API, no connection to lose.
 */
export async function startPGliteSource(
  pglite: PGlite,
  schema: string | undefined,
  hub: RevocationHub,
): Promise<RevocationSource> {
  const unlisten = await pglite.listen(revocationChannel(schema), (payload) => {
    const event = parseRevocationPayload(payload)
    if (event) hub.emit(event)
  })
  let stopped = false
  return {
    get healthy() {
      return !stopped
    },
    async stop() {
      if (stopped) return
      stopped = true
      if (!pglite.closed) await unlisten().catch(() => {})
    },
  }
}
