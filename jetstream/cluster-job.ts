/**
 * The reconcile job of one core cluster, as every target hands it to the bundled reconcile: JSON
 * in the job's environment, read back with zod. Apart from reconcile-job.ts so the targets that
 * only describe the job load no NATS client.
 */
import { z } from "zod";
import { USERS } from "../topology/auth";
import { clientUrl, type Topology, type TopologyCluster } from "../topology/types";

export const JOB_ENV = "ZESTER_RECONCILE_JOB";

const BucketSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(["kv", "stream"]),
  stream: z.string(),
  history: z.number().int(),
  ttlSeconds: z.number().int(),
  replicas: z.number().int(),
  storage: z.enum(["file", "memory"]),
  maxBytes: z.number().int(),
  discard: z.enum(["old", "new"]),
});

export const ReconcileJobSchema = z.strictObject({
  /** Client URLs of the cluster's servers. */
  servers: z.array(z.string()).min(1),
  user: z.string(),
  password: z.string(),
  clusterSize: z.number().int().min(1),
  buckets: z.array(BucketSchema),
});
export type ReconcileJob = z.infer<typeof ReconcileJobSchema>;

export function clusterJob(t: Topology, cluster: TopologyCluster, appPassword: string): ReconcileJob {
  return {
    servers: t.servers.filter((x) => x.cluster === cluster.name).map(clientUrl),
    user: USERS.app,
    password: appPassword,
    clusterSize: cluster.servers.length,
    buckets: t.plan.kv,
  };
}
