/** Connections to, and the KV reconcile of, every region's core cluster of a local topology. */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../jetstream/connect";
import { clusterJob } from "../jetstream/cluster-job";
import type { BucketChange } from "../jetstream/reconcile";
import { runReconcileJob } from "../jetstream/reconcile-job";
import { roleCreds } from "../topology/identities";
import type { Topology, TopologyCluster } from "../topology/types";
import { clientAuth, stackSeeds } from "./identities";
import type { LocalState } from "./state";

type StateAuth = Pick<LocalState, "auth">;

/** The reconcile identity's job for one core cluster. */
export const reconcileJob = (topology: Topology, cluster: TopologyCluster, state: StateAuth) =>
  clusterJob(topology, cluster, {
    ca: state.auth.ca,
    credentials: { creds: roleCreds(stackSeeds(state), "reconcile") },
  });

/** A connection as the reconcile identity (JetStream management of the planned streams) to one core cluster. */
export function connectCluster(
  topology: Topology,
  cluster: TopologyCluster,
  state: StateAuth,
): Promise<NatsConnection> {
  const job = reconcileJob(topology, cluster, state);
  return connectAdmin(job.servers, clientAuth(state, "reconcile"));
}

/** The same job every target's scheduled reconcile runs, against each region's core cluster. */
export async function reconcileLocal(topology: Topology, state: StateAuth): Promise<Record<string, BucketChange[]>> {
  const byRegion: Record<string, BucketChange[]> = {};
  for (const cluster of topology.clusters)
    byRegion[cluster.region] = await runReconcileJob(reconcileJob(topology, cluster, state));
  return byRegion;
}
