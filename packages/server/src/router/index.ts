import { router } from '../trpc.js'
import { authRouter } from './auth.js'
import { sessionsRouter } from './sessions.js'

/**
 * Breakwater's own procedures (SPEC §3). A team merges its procedures in with
 * `mergeRouters(breakwaterRouter, teamRouter)` or nests them beside `auth`
 * and `sessions`, and passes the result to the plugin as `router`.
 */
export const breakwaterRouter = router({ auth: authRouter, sessions: sessionsRouter })

export type BreakwaterRouter = typeof breakwaterRouter
