// Boot order: Breakwater's migrations (its own schema), then the team's (whose
// `profiles` references Breakwater's users), then the SPA (its origin is what the API
// lets in), then the API.
import { createDatabase, type Database } from '@breakwater/db'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { API_PREFIX, buildApi } from './api.js'
import type { TeamDatabase } from './db/connect.js'
import { BREAKWATER_SCHEMA } from './db/constants.js'
import { migrateTeam } from './db/migrate.js'
import { buildWeb } from './web.js'

export interface AppOptions {
  team: TeamDatabase
  secret: string | undefined
  /** Default 127.0.0.1. */
  host?: string
  /** Default 3000; 0 picks a free port. */
  apiPort?: number
  /** Default 5173; 0 picks a free port. */
  webPort?: number
  logger?: FastifyServerOptions['logger']
}

export interface RunningApp {
  api: FastifyInstance
  web: FastifyInstance
  breakwater: Database
  /** The tRPC endpoint, e.g. http://127.0.0.1:3000/api. */
  trpcUrl: string
  /** The API's origin (plain routes such as /files/:name). */
  apiOrigin: string
  /** The single-page app's origin. */
  webOrigin: string
  /** Closes both servers and Breakwater's side of the database; the team's connection stays open. */
  close(): Promise<void>
}

export async function startApp(options: AppOptions): Promise<RunningApp> {
  const host = options.host ?? '127.0.0.1'
  // Breakwater on the team's connection; its tables and migration history in `breakwater`.
  const breakwater = await createDatabase(options.team.shared, { schema: BREAKWATER_SCHEMA })
  let web: FastifyInstance | undefined
  let api: FastifyInstance | undefined
  try {
    await migrateTeam(options.team.db)
    let trpcUrl = ''
    web = await buildWeb(() => trpcUrl)
    const webOrigin = await web.listen({ host, port: options.webPort ?? 5173 })
    api = await buildApi({
      team: options.team,
      breakwater,
      secret: options.secret,
      spaOrigin: webOrigin,
      logger: options.logger,
    })
    const apiOrigin = await api.listen({ host, port: options.apiPort ?? 3000 })
    trpcUrl = `${apiOrigin}${API_PREFIX}`
    const [started, spa] = [api, web]
    return {
      api: started,
      web: spa,
      breakwater,
      trpcUrl,
      apiOrigin,
      webOrigin,
      async close() {
        await Promise.allSettled([started.close(), spa.close()])
        await breakwater.close()
      },
    }
  } catch (error) {
    await Promise.allSettled([api?.close(), web?.close()])
    await breakwater.close()
    throw error
  }
}
