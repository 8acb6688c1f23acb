import type { FastifyInstance } from 'fastify'

/**
 * What the real server did with `sessions.watch` requests, seen from an
 * `onRequest` hook: how many came, how many are open now, how many the server
 * confirmed (`{"type":"active"}` written), and a way to cut them all as a
 * network failure would (the sockets destroyed, no end event).
 */
export interface StreamSpy {
  requests: number
  open: number
  active: number
  /** When each stream request arrived (performance.now()). */
  arrivals: number[]
  /** Destroys every open stream's socket. */
  drop(): void
}

export function spyOnStreams(app: FastifyInstance, path = '/trpc/sessions.watch'): StreamSpy {
  const live = new Set<{ destroy(): void }>()
  const spy: StreamSpy = {
    requests: 0,
    open: 0,
    active: 0,
    arrivals: [],
    drop() {
      for (const response of live) response.destroy()
    },
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] !== path) return
    spy.requests++
    spy.arrivals.push(performance.now())
    spy.open++
    const raw = reply.raw
    live.add(raw)
    raw.once('close', () => {
      spy.open--
      live.delete(raw)
    })
    // Count what the server really wrote: the confirmation that the stream watches a live session.
    const write = raw.write.bind(raw) as (...args: unknown[]) => boolean
    raw.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk)
      if (text.includes('"type":"active"')) spy.active++
      return write(chunk, ...rest)
    }) as typeof raw.write
  })
  return spy
}

/**
 * Waits until `condition()` holds, checking every `interval` ms, at most
 * `timeout` ms; resolves with the time it took, rejects with `what` after.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeout = 10_000,
  interval = 10,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await condition()) return performance.now() - started
    if (performance.now() - started > timeout)
      throw new Error(`timed out after ${timeout} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
