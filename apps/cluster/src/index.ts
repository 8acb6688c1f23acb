/**
 * A throwaway multi-instance Breakwater for tests, benchmarks and trying things out:
 * `startCluster()` runs N `apps/server` processes on one embedded PostgreSQL.
 *
 * @module
 */

export * from './client.js'
export {
  type Cluster,
  type ClusterOptions,
  type Exit,
  freePort,
  type Instance,
  serverEntry,
  startCluster,
} from './cluster.js'
export { probeRevocation, revocationLags } from './revocation-probe.js'
