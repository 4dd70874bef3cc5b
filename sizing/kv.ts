/**
 * The KV bucket plan: guide §7 defaults with the replicas the tier can hold, and every stream
 * bounded by its share of the JetStream store (policy.ts STORE_SHARES), all of them within it.
 */
import { bytes } from "./format";
import { BUCKETS, type GuideBucket } from "./guide";
import { CLUSTER_REPLICAS, JOB_EVENTS_MAX_AGE_SECONDS, STORE_SHARES } from "./policy";
import { replicasBelowPlan } from "./below-plan";
import { SpecError, type Overrides, type Problem } from "./spec";
import type { BelowPlan, BucketPlan, ServerTuning, StorageBudget } from "./types";

export interface KvPlan {
  kv: BucketPlan[];
  storageBudget: StorageBudget;
}

export function kvPlan(
  serversPerCluster: number,
  store: ServerTuning["jetstream"],
  overrides: Overrides,
  applied: string[],
  below: BelowPlan[],
): KvPlan {
  const problems: Problem[] = [];
  const kv = BUCKETS.map((bucket) =>
    bucketPlan(bucket, serversPerCluster, store, overrides, { applied, below, problems }),
  );
  const storageBudget: StorageBudget = {
    fileStoreBytes: store.maxFileStoreBytes,
    filePlannedBytes: sum(kv.filter((b) => b.storage === "file")),
    memStoreBytes: store.maxMemStoreBytes,
    memPlannedBytes: sum(kv.filter((b) => b.storage === "memory")),
  };
  for (const [storage, planned, total] of [
    ["file", storageBudget.filePlannedBytes, storageBudget.fileStoreBytes],
    ["memory", storageBudget.memPlannedBytes, storageBudget.memStoreBytes],
  ] as const)
    if (planned > total) {
      const overridden = BUCKETS.filter((b) => b.storage === storage && overrides.kv?.[b.name]?.maxBytes !== undefined);
      problems.push({
        path: ["overrides", "kv", overridden[0]?.name ?? "", "maxBytes"],
        message: `the ${storage}-backed streams would hold ${bytes(planned)}, more than the ${bytes(total)} of max_${storage === "file" ? "file" : "mem"}_store a server may have to give them all; lower it or the other buckets' maxBytes`,
      });
    }
  if (problems.length > 0) throw new SpecError(problems);
  return { kv, storageBudget };
}

const sum = (buckets: BucketPlan[]): number => buckets.reduce((n, b) => n + b.maxBytes, 0);

interface Findings {
  applied: string[];
  below: BelowPlan[];
  problems: Problem[];
}

function bucketPlan(
  bucket: GuideBucket,
  serversPerCluster: number,
  store: ServerTuning["jetstream"],
  overrides: Overrides,
  { applied, below, problems }: Findings,
): BucketPlan {
  const single = serversPerCluster === 1;
  const given = overrides.kv?.[bucket.name] ?? {};
  const at = (key: string): Problem["path"] => ["overrides", "kv", bucket.name, key];
  for (const key of Object.keys(given)) applied.push(["overrides", "kv", bucket.name, key].join("."));
  const planned = single ? 1 : Math.min(CLUSTER_REPLICAS, serversPerCluster);
  const replicas = given.replicas ?? planned;
  if (replicas < planned) below.push(replicasBelowPlan(bucket.name, replicas, planned, serversPerCluster));
  if (single && replicas > 1) {
    problems.push({
      path: at("replicas"),
      message: `${replicas} on a single server: nats-server accepts raising a stream there, then cannot load it after a restart and the bucket is gone. Single tiers keep 1`,
    });
  } else if (replicas > serversPerCluster) {
    problems.push({
      path: at("replicas"),
      message: `${replicas} is more than the ${serversPerCluster} servers of one cluster; a stream's replicas stay within one cluster. Use 1 to ${serversPerCluster}`,
    });
  }
  const history = given.history ?? bucket.history;
  if (bucket.kind === "kv" && history < 1) {
    problems.push({ path: at("history"), message: "a KV bucket keeps at least 1 revision per key; use 1 to 64" });
  }
  const whole = bucket.storage === "memory" ? store.maxMemStoreBytes : store.maxFileStoreBytes;
  return {
    name: bucket.name,
    kind: bucket.kind,
    stream: bucket.kind === "kv" ? `KV_${bucket.name}` : bucket.name,
    history,
    ttlSeconds: given.ttlSeconds ?? (bucket.kind === "stream" ? JOB_EVENTS_MAX_AGE_SECONDS : bucket.ttlSeconds),
    replicas,
    storage: bucket.storage,
    maxBytes: given.maxBytes ?? Math.floor(whole * (STORE_SHARES[bucket.name] ?? 0)),
    discard: bucket.kind === "stream" ? "old" : "new",
  };
}

/** Replicas to enforce: the plan's, never above the cluster, always 1 on a single server. */
export function targetReplicas(bucket: Pick<BucketPlan, "replicas">, clusterSize: number): number {
  return clusterSize <= 1 ? 1 : Math.min(bucket.replicas, clusterSize);
}
