// The single-page app's own server, on another port: two static files, no build step.
import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance } from 'fastify'

const PUBLIC = new URL('../public/', import.meta.url)

/** `apiUrl()` is read per request: the API listens after the SPA (it needs its origin). */
export async function buildWeb(apiUrl: () => string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  const [page, script] = await Promise.all([
    readFile(new URL('index.html', PUBLIC), 'utf8'),
    readFile(new URL('app.js', PUBLIC), 'utf8'),
  ])
  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page.replace('%API_URL%', apiUrl())),
  )
  app.get('/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(script),
  )
  return app
}
