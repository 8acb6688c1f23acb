// Preloaded into every instance the cluster harness starts (`node --expose-gc --import
// <this file> apps/server/dist/main.js`), never in production. It keeps diagnostics out
// of apps/server: the server is run exactly as shipped, and this file only talks to the
// harness over the IPC channel `fork()` opens.
//
// - `{ type: 'listening', port }` is sent when a server of this process binds a port.
//   The harness waits for it before trusting `/readyz`: on a shared machine another
//   process may hold the port it picked, and answer `/readyz` in this one's place.
// - `{ type: 'heap', id }` → `{ type: 'heap', id, heapUsed }`, after a full GC when
//   `--expose-gc` is on, so two readings compare live objects rather than garbage that
//   a collection has not reached yet.
// - The harness going away (even by SIGKILL) closes the channel: the instance then shuts
//   itself down gracefully instead of living on as an orphan holding a port.
import net from 'node:net'

if (process.send) {
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (...args) {
    this.once('listening', () => {
      const address = this.address()
      if (address && typeof address === 'object')
        process.send?.({ type: 'listening', port: address.port })
    })
    return listen.apply(this, args)
  }
  process.on('message', (message) => {
    if (message && typeof message === 'object' && message.type === 'heap') {
      globalThis.gc?.()
      process.send?.({ type: 'heap', id: message.id, heapUsed: process.memoryUsage().heapUsed })
    }
  })
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  // The channel alone must not keep an instance that is shutting down alive.
  process.channel?.unref()
}
