/**
 * The KV reconcile as a self-contained job, for targets that run it on a schedule next to the
 * cluster (on AWS, a Lambda function in the VPC). The job is JSON in the environment, read back
 * with zod; the same `reconcileKv` the local target runs does the work.
 */
import { readFileSync } from "node:fs";
import { inboxPrefix } from "../topology/auth";
import { JOB_ENV, JOB_FILE_ENV, ReconcileJobSchema, type ReconcileJob } from "./cluster-job";
import { connectAdmin } from "./connect";
import { readSecureParameter } from "./ssm-seed";
import { awaitHealthy, AwaitHealthySchema } from "./health-gate";
import { reconcileKv, type BucketChange } from "./reconcile";
import { reconcileReplicas } from "./replicas";
import { checkTransitionFits, reportTransition, type ReportWriter } from "./transition-job";
import { targetReportWriter } from "./transition-report";

/** The job's credentials: in the job itself, or in the SSM parameter it names. */
async function credsOf(job: ReconcileJob): Promise<string> {
  const c = job.credentials;
  // The parameter is read trimmed; a `.creds` file's last line ends with a newline, which nats.js's parser needs.
  return "creds" in c ? c.creds : `${await readSecureParameter(c.ssmParameter, c.region)}\n`;
}

/**
 * The reconcile; with a transition in the job, its data-moving phase too: the limits checked
 * before anything is lowered, and the report written (by `write`) only once every stream is as
 * the wanted tier plans it.
 */
export async function runReconcileJob(
  job: ReconcileJob,
  write: ReportWriter = targetReportWriter,
  settleWithinMs?: number,
): Promise<BucketChange[]> {
  const nc = await connectAdmin(job.servers, {
    creds: await credsOf(job),
    ca: job.ca,
    inboxPrefix: inboxPrefix("reconcile"),
  });
  try {
    if (job.transition !== undefined) await checkTransitionFits(nc, job, job.transition);
    const options = { clusterSize: job.clusterSize };
    // The planned buckets first: a copy another region keeps mirrors one of them.
    const buckets = await reconcileKv(nc, job.buckets, options);
    const changes = [...buckets, ...(await reconcileReplicas(nc, job.replicas ?? [], options))];
    if (job.transition !== undefined) {
      const report = await reportTransition(nc, job, job.transition, write, settleWithinMs);
      console.log(JSON.stringify({ transitionReport: report }));
    }
    return changes;
  } finally {
    await nc.close();
  }
}

/**
 * The function's entry point. Invoked by a rollout with `{ action: "await-healthy", … }`, it is
 * the health gate between two servers; on its schedule (any other event), the KV reconcile.
 */
export async function handler(event?: unknown): Promise<unknown> {
  if (typeof event === "object" && event !== null && "action" in event) {
    // A request that names an action and gets it wrong fails, naming why; it never reconciles instead.
    const result = await awaitHealthy(AwaitHealthySchema.parse(event));
    console.log(JSON.stringify(result));
    return result;
  }
  return reconcileFromEnvironment();
}

/** Reads the job from the environment (or the file it names), logs what changed as JSON. */
export async function reconcileFromEnvironment(): Promise<{ changed: BucketChange[]; unchanged: number }> {
  const file = process.env[JOB_FILE_ENV];
  const raw = file === undefined ? process.env[JOB_ENV] : readFileSync(file, "utf8");
  if (raw === undefined) throw new Error(`neither ${JOB_FILE_ENV} nor ${JOB_ENV} is set`);
  const job = ReconcileJobSchema.parse(JSON.parse(raw));
  const changes = await runReconcileJob(job);
  const changed = changes.filter((c) => c.action !== "unchanged");
  const result = { changed, unchanged: changes.length - changed.length };
  console.log(JSON.stringify(result));
  return result;
}
