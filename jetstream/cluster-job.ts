/**
 * The reconcile job of one core cluster, as every target hands it to the bundled reconcile: JSON
 * in the job's environment, read back with zod. Apart from reconcile-job.ts so the targets that
 * only describe the job load no NATS client.
 */
import { z } from "zod";
import { JobTransitionSchema, ReportPlaceSchema } from "../change/phased";
import { BUCKET_KINDS, BUCKET_STORAGES, DISCARD_POLICIES } from "../sizing/types";
import { clientUrl, type Topology, type TopologyCluster } from "../topology/types";

export const JOB_ENV = "ZESTER_RECONCILE_JOB";
/** Where the job is read from a file instead (a Secret mounted into the pod). */
export const JOB_FILE_ENV = "ZESTER_RECONCILE_JOB_FILE";

const BucketSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(BUCKET_KINDS),
  stream: z.string(),
  history: z.number().int(),
  ttlSeconds: z.number().int(),
  replicas: z.number().int(),
  storage: z.enum(BUCKET_STORAGES),
  maxBytes: z.number().int(),
  discard: z.enum(DISCARD_POLICIES),
});

/**
 * A tier transition's data-moving phase, handed to the job by the update that applies it: the job
 * carries the steps out (its buckets are the wanted tier's), waits until every stream is as
 * planned, and writes the report (change/phased.ts's TransitionReport) where `report` names.
 */
export const TransitionJobSchema = JobTransitionSchema.extend({ report: ReportPlaceSchema });
export type TransitionJob = z.infer<typeof TransitionJobSchema>;

/** A region's copy of another region's bucket: a bucket with the stream it mirrors (sizing ReplicaPlan). */
const ReplicaSchema = BucketSchema.extend({
  kind: z.literal("kv"),
  discard: z.literal("new"),
  mirror: z.strictObject({ region: z.string(), domain: z.string(), bucket: z.string(), stream: z.string() }),
});

export const ReconcileJobSchema = z.strictObject({
  /** Client URLs of the cluster's servers. */
  servers: z.array(z.string()).min(1),
  /** The CA (PEM) the servers' certificates are verified by. */
  ca: z.string().min(1),
  /**
   * The reconcile identity's credentials (its `.creds`), or the name of the SSM SecureString
   * parameter holding them (on AWS the job is in the function's environment, which is no place
   * for a secret).
   */
  credentials: z.union([
    z.strictObject({ creds: z.string().min(1) }),
    z.strictObject({ ssmParameter: z.string().min(1), region: z.string().min(1) }),
  ]),
  clusterSize: z.number().int().min(1),
  buckets: z.array(BucketSchema),
  /** A tier transition's data-moving phase to carry out and report. @default none */
  transition: TransitionJobSchema.optional(),

  /** The cluster's region's copies of other regions' buckets. @default none */
  replicas: z.array(ReplicaSchema).optional(),
});
export type ReconcileJob = z.infer<typeof ReconcileJobSchema>;

/** The job of one cluster; `credentials` says where its credentials are (ReconcileJobSchema). */
export function clusterJob(
  t: Topology,
  cluster: TopologyCluster,
  auth: { ca: string; credentials: ReconcileJob["credentials"] },
): ReconcileJob {
  const replicas = t.plan.regions.find((r) => r.name === cluster.region)?.replicas ?? [];
  return {
    servers: t.servers.filter((x) => x.cluster === cluster.name).map(clientUrl),
    ca: auth.ca,
    credentials: auth.credentials,
    clusterSize: cluster.servers.length,
    buckets: t.plan.kv,
    // Absent when the region keeps no copies, so a job without replication reads as before.
    ...(replicas.length === 0 ? {} : { replicas }),
  };
}
