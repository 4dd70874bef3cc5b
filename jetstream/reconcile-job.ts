/**
 * The KV reconcile as a self-contained job, for targets that run it on a schedule next to the
 * cluster (on AWS, a Lambda function in the VPC). The job is JSON in the environment, read back
 * with zod; the same `reconcileKv` the local target runs does the work.
 */
import { z } from "zod";
import { connectAdmin } from "./connect";
import { reconcileKv, type BucketChange } from "./reconcile";

export const JOB_ENV = "ZESTER_RECONCILE_JOB";

const BucketSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(["kv", "stream"]),
  stream: z.string(),
  history: z.number().int(),
  ttlSeconds: z.number().int(),
  replicas: z.number().int(),
  storage: z.enum(["file", "memory"]),
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

export async function runReconcileJob(job: ReconcileJob): Promise<BucketChange[]> {
  const nc = await connectAdmin(job.servers, job.user, job.password);
  try {
    return await reconcileKv(nc, job.buckets, { clusterSize: job.clusterSize });
  } finally {
    await nc.close();
  }
}

/** The scheduled entry point: reads the job from the environment, logs what changed as JSON. */
export async function handler(): Promise<{ changed: BucketChange[]; unchanged: number }> {
  const raw = process.env[JOB_ENV];
  if (raw === undefined) throw new Error(`${JOB_ENV} is not set`);
  const job = ReconcileJobSchema.parse(JSON.parse(raw));
  const changes = await runReconcileJob(job);
  const changed = changes.filter((c) => c.action !== "unchanged");
  const result = { changed, unchanged: changes.length - changed.length };
  console.log(JSON.stringify(result));
  return result;
}
