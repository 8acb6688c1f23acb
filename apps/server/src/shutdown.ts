import type { FastifyInstance } from 'fastify'

/** Past this, a shutdown that is still waiting for requests gives up and exits. */
const SHUTDOWN_TIMEOUT_MS = 10_000

/**
 * SIGTERM / SIGINT: stop accepting connections, let in-flight requests
 * finish, close the database, exit 0. A second signal, or the timeout,
 * exits at once.
 */
export function closeOnSignals(app: FastifyInstance): void {
  let closing = false
  const close = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1)
    closing = true
    app.log.info({ signal }, 'shutting down')
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    // A keep-alive socket whose request finishes after close() began would
    // otherwise hold the server open until its keep-alive timeout.
    const sweeper = setInterval(() => app.server.closeIdleConnections(), 50)
    sweeper.unref()
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', close)
  process.once('SIGINT', close)
}
