/**
 * Brings a running cluster's KV buckets and the `job-events` stream to the plan: creates
 * missing ones with Zester's defaults, and raises or lowers replicas **in place** (a stream
 * update; never delete and recreate). Idempotent; reports what it changed.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { targetReplicas } from "../sizing/kv";
import type { BucketPlan } from "../sizing/types";
import { followersOf, staleFollowers } from "./stale-followers";
import { JOB_EVENTS_SUBJECTS } from "./zester-assumptions";

export interface BucketChange {
  stream: string;
  action: "created" | "replicas-raised" | "replicas-lowered" | "limits-changed" | "unchanged";
  replicas: number;
  /** Replicas before, where the stream existed. */
  from?: number;
}

export interface ReconcileOptions {
  /** Servers of the cluster that holds the streams: replicas never go above it. */
  clusterSize: number;
}

export const storage = (s: BucketPlan["storage"]): StorageType =>
  s === "memory" ? StorageType.Memory : StorageType.File;

export async function infoOrUndefined(jsm: JetStreamManager, stream: string) {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

export { targetReplicas } from "../sizing/kv";

export async function reconcileKv(
  nc: NatsConnection,
  kv: BucketPlan[],
  options: ReconcileOptions,
): Promise<BucketChange[]> {
  const jsm = await withRetries(() => jetstreamManager(nc, { timeout: API_TIMEOUT_MS }));
  const kvm = new Kvm(jetstream(nc, { timeout: API_TIMEOUT_MS }));
  // Buckets are independent: a few at a time, so fourteen round trips do not run in a row, but
  // a meta leader elected a moment ago is not flooded either.
  const changes: BucketChange[] = new Array<BucketChange>(kv.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < kv.length; i = next++) {
      const bucket = kv[i];
      if (bucket !== undefined) changes[i] = await withRetries(() => reconcileBucket(nc, jsm, kvm, bucket, options));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return changes;
}

export const API_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;
const ATTEMPTS = 8;

/**
 * JetStream API calls can time out while a cluster settles (a meta leader just elected, stream
 * placement under way). Each bucket's reconcile reads before it writes, so it is safe to repeat.
 */
export async function withRetries<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      // "no suitable peers for placement, peer offline": a meta leader elected a moment ago has not
      // heard from every peer yet (seen on a freshly started 3-node cluster under load).
      // "JetStream not enabled for account": a server just started enables an account's
      // JetStream as it takes the account's JWT in, a moment after the first client of it.
      const transient =
        /timeout|no responders|stream not found|jetstream system temporarily unavailable|no suitable peers|jetstream not enabled for account/i.test(
          String(error),
        );
      if (!transient || attempt >= ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** The limits the plan gives a stream, in JetStream's own units (max_age in nanoseconds). */
export function plannedLimits(
  bucket: Pick<BucketPlan, "maxBytes" | "ttlSeconds" | "discard">,
): Pick<StreamConfig, "max_bytes" | "max_age" | "discard"> {
  return {
    max_bytes: bucket.maxBytes,
    max_age: bucket.ttlSeconds * 1_000_000_000,
    discard: bucket.discard === "old" ? DiscardPolicy.Old : DiscardPolicy.New,
  };
}

async function reconcileBucket(
  nc: NatsConnection,
  jsm: JetStreamManager,
  kvm: Kvm,
  bucket: BucketPlan,
  options: ReconcileOptions,
): Promise<BucketChange> {
  const replicas = targetReplicas(bucket, options.clusterSize);
  const limits = plannedLimits(bucket);
  const info = await infoOrUndefined(jsm, bucket.stream);
  if (info === undefined) {
    if (bucket.kind === "kv") {
      await kvm.create(bucket.name, {
        history: bucket.history,
        ...(bucket.ttlSeconds > 0 ? { ttl: bucket.ttlSeconds * 1000 } : {}),
        storage: storage(bucket.storage),
        replicas,
        max_bytes: bucket.maxBytes,
      });
    } else {
      await jsm.streams.add({
        name: bucket.stream,
        subjects: JOB_EVENTS_SUBJECTS,
        storage: storage(bucket.storage),
        num_replicas: replicas,
        ...limits,
      });
    }
    await untilServing(nc, jsm, bucket.stream, replicas);
    return { stream: bucket.stream, action: "created", replicas };
  }
  const from = info.config.num_replicas;
  const drifted =
    info.config.max_bytes !== limits.max_bytes ||
    info.config.max_age !== limits.max_age ||
    info.config.discard !== limits.discard;
  if (from === replicas && !drifted) return { stream: bucket.stream, action: "unchanged", replicas };
  // One update for both: a stream's replicas and limits change in place, never by re-creating it.
  await jsm.streams.update(bucket.stream, { ...info.config, num_replicas: replicas, ...limits });
  await untilServing(nc, jsm, bucket.stream, replicas);
  const action = from < replicas ? "replicas-raised" : from > replicas ? "replicas-lowered" : "limits-changed";
  return { stream: bucket.stream, action, replicas, ...(from === replicas ? {} : { from }) };
}

/**
 * How long a stream may take to elect its leader and bring every replica current. An election
 * alone can take several seconds on a loaded host, and giving up leaves a half-reconciled fleet:
 * 2.9.10 in CI, a leaf tier's fresh `up`, twice left a new KV_facts with no current follower
 * (after 10 s, then after 30 s), which is why a stream that stands still is also nudged.
 */
const SERVING_TIMEOUT_MS = 60_000;
/** How long a new or changed stream's followers may stand still before its leader is asked to step down. */
const SERVING_QUIET_MS = 15_000;

/**
 * A stream answers writes only once its Raft group has a leader: right after a create or a
 * replica change a client can get "no responders" (seen on a fresh 3-node cluster). Waits until
 * the stream has a leader and every planned replica is current.
 */
export async function untilServing(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  replicas: number,
): Promise<void> {
  const deadline = Date.now() + SERVING_TIMEOUT_MS;
  const stale = staleFollowers(nc, SERVING_QUIET_MS);
  for (;;) {
    // Right after a create, 2.9 can still answer "stream not found" for a moment.
    const info = await infoOrUndefined(jsm, stream);
    const cluster = info?.cluster;
    const followers = (cluster?.replicas ?? []).filter((r) => r.current && !r.offline).length;
    if (info !== undefined && (replicas === 1 || ((cluster?.leader ?? "") !== "" && followers >= replicas - 1))) return;
    if (Date.now() > deadline)
      throw new Error(
        `stream ${stream} has no leader with ${replicas - 1} current followers after ${SERVING_TIMEOUT_MS / 1000} s ` +
          `(leader ${cluster?.leader ?? "none"}; ${info === undefined ? "no stream info" : followersOf(info)}; its leader asked to step down ${String(stale.asked(stream))} times)`,
      );
    if (info !== undefined) await stale.nudge(info);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Drift correction: a Zester master that recreates buckets with its defaults lowers replicas
 * again, so enforcement must be continuous. Runs `reconcileKv` every `intervalMs` until stopped.
 */
export function startDriftCorrection(
  nc: NatsConnection,
  kv: BucketPlan[],
  options: ReconcileOptions & {
    intervalMs: number;
    onChange?: (changes: BucketChange[]) => void;
    onError?: (error: unknown) => void;
  },
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const changes = (await reconcileKv(nc, kv, options)).filter((c) => c.action !== "unchanged");
      if (changes.length > 0) options.onChange?.(changes);
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void tick(), options.intervalMs);
  };
  timer = setTimeout(() => void tick(), options.intervalMs);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
