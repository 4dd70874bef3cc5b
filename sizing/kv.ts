/** The KV bucket plan: guide §7 defaults with the replicas the tier can hold. */
import { BUCKETS } from "./guide";
import { CLUSTER_REPLICAS } from "./policy";
import { replicasBelowPlan } from "./below-plan";
import { SpecError, type Overrides, type Problem } from "./spec";
import type { BelowPlan, BucketPlan } from "./types";

export function kvPlan(
  serversPerCluster: number,
  overrides: Overrides,
  applied: string[],
  below: BelowPlan[],
): BucketPlan[] {
  const single = serversPerCluster === 1;
  const problems: Problem[] = [];
  const plan = BUCKETS.map((bucket): BucketPlan => {
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
    return {
      name: bucket.name,
      kind: bucket.kind,
      stream: bucket.kind === "kv" ? `KV_${bucket.name}` : bucket.name,
      history,
      ttlSeconds: given.ttlSeconds ?? bucket.ttlSeconds,
      replicas,
      storage: bucket.storage,
    };
  });
  if (problems.length > 0) throw new SpecError(problems);
  return plan;
}
