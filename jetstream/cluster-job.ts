/**
 * The reconcile job of one core cluster, as every target hands it to the bundled reconcile.
 * Apart from reconcile-job.ts so the deployed bundle does not carry the renderers.
 */
import { USERS } from "../topology/auth";
import { clientUrl, type Topology, type TopologyCluster } from "../topology/types";
import type { ReconcileJob } from "./reconcile-job";

export function clusterJob(t: Topology, cluster: TopologyCluster, appPassword: string): ReconcileJob {
  return {
    servers: t.servers.filter((x) => x.cluster === cluster.name).map(clientUrl),
    user: USERS.app,
    password: appPassword,
    clusterSize: cluster.servers.length,
    buckets: t.plan.kv,
  };
}
