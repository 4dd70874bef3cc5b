/** The KV reconcile against every region's core cluster of a local topology. */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../jetstream/connect";
import { reconcileKv, type BucketChange } from "../jetstream/reconcile";
import { USERS } from "../topology/render/nats-server-conf";
import { clientUrl, type Topology, type TopologyCluster } from "../topology/types";
import type { LocalState } from "./state";

/** An admin connection, in the app account, to the servers of one core cluster. */
export function connectCluster(
  topology: Topology,
  cluster: TopologyCluster,
  secrets: LocalState["secrets"],
): Promise<NatsConnection> {
  const urls = topology.servers.filter((s) => s.cluster === cluster.name).map(clientUrl);
  return connectAdmin(urls, USERS.app, secrets.app);
}

export async function reconcileLocal(
  topology: Topology,
  secrets: LocalState["secrets"],
): Promise<Record<string, BucketChange[]>> {
  const byRegion: Record<string, BucketChange[]> = {};
  for (const cluster of topology.clusters) {
    const nc = await connectCluster(topology, cluster, secrets);
    try {
      byRegion[cluster.region] = await reconcileKv(nc, topology.plan.kv, { clusterSize: cluster.servers.length });
    } finally {
      await nc.close();
    }
  }
  return byRegion;
}
