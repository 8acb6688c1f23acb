/**
 * A throwaway multi-instance Breakwater for tests, benchmarks and trying things out:
 * `startCluster()` runs N `apps/server` processes on one embedded PostgreSQL.
 *
 * @module
 */

export { freePort } from '@breakwater/db/testing'
export * from './client.js'
export {
  CLUSTER_SECRET,
  type Cluster,
  type ClusterOptions,
  type Exit,
  type Instance,
  serverEntry,
  startCluster,
} from './cluster.js'
export { probeRevocation, revocationLags } from './revocation-probe.js'
