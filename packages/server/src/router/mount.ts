import type { AnyTRPCRouter } from '@trpc/server'
import { OptionError } from '../options.js'
import { keepsReason, ownInstance } from '../trpc.js'
import { isBreakwaterRefresh } from './index.js'

const REFRESH = 'auth.refresh'

/**
 * Where Breakwater's procedures sit in the router a plugin is given, checked
 * at start so a missing piece is one line at boot, never a 500 later: the
 * router must hold Breakwater's router exactly once; one built on a team's
 * instance needs the team's `createContext` and an error formatter that
 * keeps `error.data.reason`.
 */
export function findMount(router: AnyTRPCRouter, hasContext: boolean): { namespace: string } {
  const def = (router as { _def?: { procedures?: Record<string, unknown>; _config?: unknown } })
    ?._def
  if (typeof def?.procedures !== 'object' || def.procedures === null)
    throw new OptionError('router must be a tRPC router (t.router({ … }))')
  const mounts = Object.entries(def.procedures)
    .filter(([, procedure]) => isBreakwaterRefresh(procedure))
    .map(([path]) => path)
  if (mounts.length === 0) {
    throw new OptionError(
      "router holds none of Breakwater's procedures: nest createBreakwater(t).router (or breakwaterRouter) in it, e.g. t.router({ account: auth.router, … })",
    )
  }
  if (mounts.length > 1) {
    throw new OptionError(
      `router holds Breakwater's procedures ${mounts.length} times (${mounts.join(', ')}): mount them once`,
    )
  }
  const path = mounts[0] as string
  const namespace = path === REFRESH ? '' : path.slice(0, -(REFRESH.length + 1))
  // Breakwater's own instance (also after mergeRouters, which copies its formatter).
  const formatter = (def._config as { errorFormatter?: unknown } | undefined)?.errorFormatter
  if (formatter !== ownInstance._config.errorFormatter) {
    if (!keepsReason(formatter)) {
      throw new OptionError(
        'router is built on a tRPC instance whose errorFormatter drops error.data.reason: create it with errorFormatter: breakwaterErrorFormatter(yourFormatter)',
      )
    }
    if (!hasContext) {
      throw new OptionError(
        'router is built on your own tRPC instance: pass your createContext too, so your procedures get the context they expect',
      )
    }
  }
  return { namespace }
}
