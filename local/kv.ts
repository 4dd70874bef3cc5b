/** Connections to, and the KV reconcile of, every region's core cluster of a local topology. */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../jetstream/connect";
import { clusterJob } from "../jetstream/cluster-job";
import type { BucketChange } from "../jetstream/reconcile";
import { runReconcileJob } from "../jetstream/reconcile-job";
import type { Topology, TopologyCluster } from "../topology/types";
import type { LocalState } from "./state";

/** An admin connection, in the app account, to the servers of one core cluster. */
export function connectCluster(
  topology: Topology,
  cluster: TopologyCluster,
  secrets: LocalState["secrets"],
): Promise<NatsConnection> {
  const job = clusterJob(topology, cluster, secrets.app);
  return connectAdmin(job.servers, job.user, job.password);
}

/** The same job every target's scheduled reconcile runs, against each region's core cluster. */
export async function reconcileLocal(
  topology: Topology,
  secrets: LocalState["secrets"],
): Promise<Record<string, BucketChange[]>> {
  const byRegion: Record<string, BucketChange[]> = {};
  for (const cluster of topology.clusters)
    byRegion[cluster.region] = await runReconcileJob(clusterJob(topology, cluster, secrets.app));
  return byRegion;
}
