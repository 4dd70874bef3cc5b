/**
 * Brings a running cluster's KV buckets and the `job-events` stream to the plan: creates
 * missing ones with Zester's defaults, and raises or lowers replicas **in place** (a stream
 * update; never delete and recreate). Idempotent; reports what it changed.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { BucketPlan } from "../sizing/types";
import { JOB_EVENTS_SUBJECTS } from "./zester-assumptions";

export interface BucketChange {
  stream: string;
  action: "created" | "replicas-raised" | "replicas-lowered" | "unchanged";
  replicas: number;
  /** Replicas before, where the stream existed. */
  from?: number;
}

export interface ReconcileOptions {
  /** Servers of the cluster that holds the streams: replicas never go above it. */
  clusterSize: number;
}

const storage = (s: BucketPlan["storage"]): StorageType => (s === "memory" ? StorageType.Memory : StorageType.File);

async function infoOrUndefined(jsm: JetStreamManager, stream: string) {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

/** Replicas to enforce: the plan's, never above the cluster, always 1 on a single server. */
export function targetReplicas(bucket: BucketPlan, clusterSize: number): number {
  return clusterSize <= 1 ? 1 : Math.min(bucket.replicas, clusterSize);
}

export async function reconcileKv(
  nc: NatsConnection,
  kv: BucketPlan[],
  options: ReconcileOptions,
): Promise<BucketChange[]> {
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  const changes: BucketChange[] = [];
  for (const bucket of kv) {
    const replicas = targetReplicas(bucket, options.clusterSize);
    const info = await infoOrUndefined(jsm, bucket.stream);
    if (info === undefined) {
      if (bucket.kind === "kv") {
        await kvm.create(bucket.name, {
          history: bucket.history,
          ...(bucket.ttlSeconds > 0 ? { ttl: bucket.ttlSeconds * 1000 } : {}),
          storage: storage(bucket.storage),
          replicas,
        });
      } else {
        await jsm.streams.add({
          name: bucket.stream,
          subjects: JOB_EVENTS_SUBJECTS,
          storage: storage(bucket.storage),
          num_replicas: replicas,
        });
      }
      changes.push({ stream: bucket.stream, action: "created", replicas });
      continue;
    }
    const from = info.config.num_replicas;
    if (from === replicas) {
      changes.push({ stream: bucket.stream, action: "unchanged", replicas });
      continue;
    }
    await jsm.streams.update(bucket.stream, { ...info.config, num_replicas: replicas });
    changes.push({
      stream: bucket.stream,
      action: from < replicas ? "replicas-raised" : "replicas-lowered",
      replicas,
      from,
    });
  }
  return changes;
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
