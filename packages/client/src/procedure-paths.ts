import { type ProcedurePaths, procedurePaths } from '@breakwater/protocol'

export type { ProcedurePaths }

/** A router key per segment: what a team can write as `t.router({ account: … })` without quotes. */
const NAMESPACE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/

/**
 * The paths of Breakwater's procedures for the `namespace` option, checked
 * once when the client is made: a typo here would otherwise surface as
 * calls that never refresh (the client would not recognise the refresh or
 * sign-in procedures), or as 404s from the refresh request.
 */
export function resolvePaths(namespace: unknown): ProcedurePaths {
  if (namespace === undefined) return procedurePaths()
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new TypeError(
      `@breakwater/client: namespace must be the router key Breakwater's router sits under, dot-separated identifiers such as "account" or "v1.account", got ${JSON.stringify(namespace)}`,
    )
  }
  return procedurePaths(namespace)
}
