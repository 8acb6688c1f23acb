import pg from 'pg'
import { translateError } from '../errors.js'
import { parseRevocationPayload, revocationChannel } from '../queries/revocations.js'
import type { RevocationHub, RevocationSource } from './feed.js'

/** Tuning of the LISTEN connection; defaults suit SPEC §4's "within 1 s". */
export interface NotifyOptions {
  /** First reconnect delay; doubles per failure up to `maxBackoffMs`. Default 100 ms. */
  readonly minBackoffMs?: number
  /** Default 5 s. */
  readonly maxBackoffMs?: number
  /**
   * A `SELECT 1` this often proves the connection alive; a half-open TCP connection
   * (a dropped NAT entry, a failed-over proxy) otherwise looks healthy for minutes while
   * delivering nothing. Default 10 s.
   */
  readonly heartbeatMs?: number
  /**
   * After a reconnect, revocations since (last moment known connected − this) are
   * re-read, covering clock skew between the instances that stamped them. Default 60 s.
   */
  readonly catchUpMarginMs?: number
  /** Connect timeout. Default 2.5 s. */
  readonly connectTimeoutMs?: number
}

/** `application_name` of the LISTEN connection, to find it in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'breakwater-revocations'

/** Where the LISTEN connection goes, and which schema's revocations it follows. */
export interface NotifyTarget {
  /**
   * `pg.Client` settings: `{ connectionString }` for a URL, or a team's `pool.options`
   * (a pool's own settings, minus the pool-only ones, which `pg.Client` ignores).
   */
  readonly connection: pg.ClientConfig
  /** The schema of the `sessions` table; undefined: the connection's `search_path`. */
  readonly schema: string | undefined
}

/**
 * Listens on the schema's `revocationChannel` over a dedicated `pg.Client` (LISTEN needs
 * a session of its own: a pooled connection changes hands, and PgBouncer in transaction
 * mode drops LISTEN, hence `listenUrl`). When the connection drops it reconnects with
 * jittered exponential backoff, LISTENs again, then replays revocations committed
 * since the drop from the `sessions` table, so none is missed.
 *
 * Resolves once the first LISTEN is in place; rejects if that first attempt fails.
 */
export async function startNotifySource(
  target: NotifyTarget,
  hub: RevocationHub,
  onError: (error: unknown) => void,
  options: NotifyOptions = {},
): Promise<RevocationSource> {
  const minBackoff = options.minBackoffMs ?? 100
  const maxBackoff = options.maxBackoffMs ?? 5000
  const heartbeatMs = options.heartbeatMs ?? 10_000
  const margin = options.catchUpMarginMs ?? 60_000
  const connectTimeout = options.connectTimeoutMs ?? 2500
  const channel = revocationChannel(target.schema)
  // The schema name is a checked plain identifier (schema-plugin.ts): safe to quote as is.
  const sessions = target.schema === undefined ? 'sessions' : `"${target.schema}".sessions`

  let client: pg.Client | undefined
  let healthy = false
  let stopped = false
  let failures = 0
  let lastAliveAt: number | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let heartbeat: NodeJS.Timeout | undefined

  const drop = (dead: pg.Client, error?: unknown) => {
    if (dead !== client) return // an old connection's late event
    client = undefined
    healthy = false
    clearInterval(heartbeat)
    // The LISTEN client is a bare pg.Client, outside the guarded dialect: translate here,
    // so onError, like every caller, only ever sees a DatabaseError.
    if (error !== undefined) onError(translateError(error))
    dead.end().catch(() => {})
    if (stopped) return
    const delay = Math.min(maxBackoff, minBackoff * 2 ** failures)
    failures++
    // Jitter, so instances cut off together do not reconnect in lockstep.
    retryTimer = setTimeout(() => void connect().catch(() => {}), delay * (0.5 + Math.random() / 2))
    retryTimer.unref()
  }

  const connect = async (): Promise<void> => {
    const c = new pg.Client({
      ...target.connection,
      // pg-pool keeps `password` non-enumerable (out of logs), so a spread loses it.
      ...('password' in target.connection && { password: target.connection.password }),
      connectionTimeoutMillis: connectTimeout,
      keepAlive: true,
      application_name: LISTENER_APPLICATION_NAME,
    })
    client = c
    // Without these handlers a dropped socket is an uncaught 'error' event: a crash.
    c.on('error', (error) => drop(c, error))
    c.on('end', () => drop(c))
    c.on('notification', (message) => {
      if (message.channel !== channel) return
      const event = parseRevocationPayload(message.payload)
      if (event) hub.emit(event)
    })
    try {
      await c.connect()
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`)
      if (lastAliveAt !== undefined) {
        // Catch up on this connection (it may be the only route, with listenUrl).
        const since = new Date(lastAliveAt - margin)
        const { rows } = await c.query<{
          id: string
          user_id: string
          revoked_at: Date
          revoked_reason: string | null
        }>(
          `select id, user_id, revoked_at, revoked_reason from ${sessions} where revoked_at is not null and revoked_at >= $1 order by revoked_at`,
          [since],
        )
        for (const r of rows) {
          hub.emit({
            sessionId: r.id,
            userId: r.user_id,
            revokedAt: r.revoked_at,
            reason: r.revoked_reason,
          })
        }
      }
    } catch (error) {
      drop(c, error)
      throw translateError(error)
    }
    if (client !== c) return
    failures = 0
    healthy = true
    lastAliveAt = Date.now()
    heartbeat = setInterval(() => {
      c.query('select 1').then(
        () => {
          if (client === c) lastAliveAt = Date.now()
        },
        (error) => drop(c, error),
      )
    }, heartbeatMs)
    heartbeat.unref()
  }

  // The first attempt must succeed: a bad listenUrl should fail start-up, not hide.
  try {
    await connect()
  } catch (error) {
    stopped = true
    clearTimeout(retryTimer)
    throw error
  }

  return {
    get healthy() {
      return healthy
    },
    async stop() {
      stopped = true
      healthy = false
      clearTimeout(retryTimer)
      clearInterval(heartbeat)
      const c = client
      client = undefined
      await c?.end().catch(() => {})
    },
  }
}
