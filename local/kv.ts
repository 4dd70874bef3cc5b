/** Runs the KV reconcile against every region's core cluster of a local topology. */
import { connectAdmin } from "../jetstream/connect";
import { reconcileKv, type BucketChange } from "../jetstream/reconcile";
import { USERS } from "../topology/render/nats-server-conf";
import type { Topology } from "../topology/types";
import { clientUrl } from "../jetstream/health";
import type { LocalState } from "./state";

export async function reconcileLocal(
  topology: Topology,
  secrets: LocalState["secrets"],
): Promise<Record<string, BucketChange[]>> {
  const byRegion: Record<string, BucketChange[]> = {};
  for (const cluster of topology.clusters) {
    const urls = topology.servers.filter((s) => s.cluster === cluster.name).map(clientUrl);
    const nc = await connectAdmin(urls, USERS.app, secrets.app);
    try {
      byRegion[cluster.region] = await reconcileKv(nc, topology.plan.kv, { clusterSize: cluster.servers.length });
    } finally {
      await nc.close();
    }
  }
  return byRegion;
}
