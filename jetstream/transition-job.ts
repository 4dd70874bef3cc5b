/**
 * A tier transition's data-moving phase as the reconcile job carries it out on a cloud target:
 * before limits come down, every stream must fit its new one (lowering max_bytes below what a
 * stream holds drops its oldest messages); the reconcile sets the wanted tier's limits and
 * replicas; then the job waits until every stream has a leader and its planned replicas current,
 * and only then writes the report the next update waits for. A failure writes nothing: the next
 * phase stays refused, and the job's log says why.
 */
import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { targetReplicas } from "../sizing/kv";
import type { BucketPlan } from "../sizing/types";
import type { TransitionReport } from "../change/phased";
import type { ReconcileJob, TransitionJob } from "./cluster-job";

const API_TIMEOUT_MS = 10_000;
/** Within one run of the job (a Lambda may run 900 s): long enough for replicas to catch up. */
export const SETTLE_WITHIN_MS = 600_000;

/** Where the job writes its report: the target's writer (SSM, a ConfigMap) or a test's. */
export type ReportWriter = (report: TransitionReport, where: TransitionJob["report"]) => Promise<void>;

/** Streams that hold more than the wanted tier allows them, in words; empty: every one fits. */
export async function streamsOverLimit(nc: NatsConnection, buckets: BucketPlan[], tier: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  const over: string[] = [];
  for (const bucket of buckets) {
    const info = await jsm.streams.info(bucket.stream).catch(() => undefined);
    if (info !== undefined && info.state.bytes > bucket.maxBytes)
      over.push(
        `${bucket.stream} holds ${String(info.state.bytes)} bytes, its limit on the ${tier} tier is ${String(bucket.maxBytes)}`,
      );
  }
  return over;
}

/** Why a stream is not yet as planned (undefined: it is). */
export function streamShortfall(info: StreamInfo, bucket: BucketPlan, clusterSize: number): string | undefined {
  const replicas = targetReplicas(bucket, clusterSize);
  if (info.config.num_replicas !== replicas)
    return `${bucket.stream} has ${String(info.config.num_replicas)} replicas, ${String(replicas)} planned`;
  if (info.config.max_bytes !== bucket.maxBytes)
    return `${bucket.stream}'s max_bytes is ${String(info.config.max_bytes)}, ${String(bucket.maxBytes)} planned`;
  if (replicas > 1) {
    if (info.cluster?.leader === undefined || info.cluster.leader === "") return `${bucket.stream} has no leader`;
    const followers = info.cluster.replicas ?? [];
    const behind = followers.filter((r) => !r.current || r.offline).map((r) => r.name);
    if (followers.length < replicas - 1)
      return `${bucket.stream} has ${String(followers.length + 1)} of ${String(replicas)} replicas placed`;
    if (behind.length > 0) return `${bucket.stream}'s replicas on ${behind.join(", ")} are not current`;
  }
  return undefined;
}

/** Waits until every planned stream is as planned; throws naming what is not, after `timeoutMs`. */
export async function waitPlanned(
  nc: NatsConnection,
  buckets: BucketPlan[],
  clusterSize: number,
  timeoutMs: number,
): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    for (const bucket of buckets) {
      const info = await jsm.streams.info(bucket.stream).catch((error: unknown) => String(error));
      const problem =
        typeof info === "string" ? `${bucket.stream}: ${info}` : streamShortfall(info, bucket, clusterSize);
      if (problem !== undefined) problems.push(problem);
    }
    if (problems.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `the streams are not as the transition plans them after ${String(Math.round(timeoutMs / 1000))} s; no report written:\n- ${problems.join("\n- ")}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Before the reconcile: refuses (writing nothing) when lowering the limits would drop messages. */
export async function checkTransitionFits(
  nc: NatsConnection,
  job: ReconcileJob,
  transition: TransitionJob,
): Promise<void> {
  if (!transition.steps.some((s) => s.kind === "set-limits")) return;
  const over = await streamsOverLimit(nc, job.buckets, transition.to.tier);
  if (over.length > 0)
    throw new Error(
      `the streams do not fit the ${transition.to.tier} tier's store; nothing was lowered and no report written:\n- ${over.join("\n- ")}`,
    );
}

/** After the reconcile: waits until every stream is as planned, then writes the report. */
export async function reportTransition(
  nc: NatsConnection,
  job: ReconcileJob,
  transition: TransitionJob,
  write: ReportWriter,
  settleWithinMs = SETTLE_WITHIN_MS,
): Promise<TransitionReport> {
  await waitPlanned(nc, job.buckets, job.clusterSize, settleWithinMs);
  const report: TransitionReport = {
    version: 1,
    from: transition.from,
    to: transition.to,
    phase: transition.phase,
    done: transition.steps.map((s) => s.id),
    at: new Date().toISOString(),
  };
  await write(report, transition.report);
  return report;
}
