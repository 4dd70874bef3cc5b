/**
 * Cross-region replication (guide §2, supercluster: "JetStream data replication across regions
 * (configurable)"): which region keeps a read-only copy of which other region's KV bucket.
 *
 * A copy is a KV bucket of the region that keeps it, named `<bucket>-from-<source region>`, whose
 * stream mirrors the source's across JetStream domains. A client of that region opens it like any
 * bucket and reads the source's keys; it never writes into it (a mirror takes no writes).
 */
import { bytes } from "./format";
import { SpecError, type Problem, type RegionSpec } from "./spec";
import type { BucketPlan, RegionPlan, ReplicaPlan, StorageBudget } from "./types";

/** The bucket a region's copy of `bucket` from `sourceRegion` opens as. */
export const replicaBucketName = (bucket: string, sourceRegion: string): string => `${bucket}-from-${sourceRegion}`;

/**
 * The regions with the copies each keeps. Refuses (naming `regions[i].replicate[j]`) a target
 * that is not another region of the plan, a copy declared twice, and copies that do not fit the
 * JetStream store of the region that keeps them next to its own buckets.
 */
export function planReplication(
  regions: RegionPlan[],
  declared: RegionSpec[],
  kv: BucketPlan[],
  budget: StorageBudget,
): RegionPlan[] {
  const problems: Problem[] = [];
  const names = regions.map((r) => r.name);
  const copies = new Map<string, { replica: ReplicaPlan; path: Problem["path"] }[]>();
  declared.forEach((source, i) => {
    const seen = new Set<string>();
    (source.replicate ?? []).forEach((entry, j) => {
      const path = ["regions", i, "replicate", j];
      const from = regions.find((r) => r.name === source.name);
      const bucket = kv.find((b) => b.name === entry.bucket);
      if (entry.to === source.name) {
        problems.push({
          path: [...path, "to"],
          message: `"${entry.to}" is the region that holds ${entry.bucket}; a copy goes to another region: ${names.filter((n) => n !== source.name).join(", ")}`,
        });
      } else if (!names.includes(entry.to)) {
        problems.push({
          path: [...path, "to"],
          message: `"${entry.to}" is not a region of this plan; the regions are: ${names.join(", ")}`,
        });
      } else if (seen.has(`${entry.bucket} ${entry.to}`)) {
        problems.push({ path, message: `${entry.bucket} to ${entry.to} is declared twice` });
      } else if (from?.jetstreamDomain !== undefined && bucket !== undefined) {
        seen.add(`${entry.bucket} ${entry.to}`);
        const name = replicaBucketName(bucket.name, source.name);
        const replica: ReplicaPlan = {
          ...bucket,
          name,
          kind: "kv",
          stream: `KV_${name}`,
          discard: "new",
          mirror: { region: source.name, domain: from.jetstreamDomain, bucket: bucket.name, stream: bucket.stream },
        };
        copies.set(entry.to, [...(copies.get(entry.to) ?? []), { replica, path }]);
      }
    });
  });
  for (const [region, held] of copies) problems.push(...overBudget(region, held, budget));
  if (problems.length > 0) throw new SpecError(problems);
  return regions.map((r) => {
    const held = copies.get(r.name) ?? [];
    return held.length === 0 ? r : { ...r, replicas: held.map((c) => c.replica) };
  });
}

/**
 * A region's servers hold its own streams and its copies: every `max_bytes` is reserved in the
 * store when the stream is created, so copies that do not fit would be refused by nats-server.
 */
function overBudget(
  region: string,
  held: { replica: ReplicaPlan; path: Problem["path"] }[],
  budget: StorageBudget,
): Problem[] {
  const problems: Problem[] = [];
  for (const [storage, own, store] of [
    ["file", budget.filePlannedBytes, budget.fileStoreBytes],
    ["memory", budget.memPlannedBytes, budget.memStoreBytes],
  ] as const) {
    const mine = held.filter((c) => c.replica.storage === storage);
    const copied = mine.reduce((n, c) => n + c.replica.maxBytes, 0);
    const last = mine[mine.length - 1];
    if (last !== undefined && own + copied > store)
      problems.push({
        path: last.path,
        message: `region ${region} would hold ${bytes(own + copied)} of ${storage}-backed streams (its own ${bytes(own)} and copies of ${bytes(copied)}), more than the ${bytes(store)} store a server has for them; lower overrides.kv.<bucket>.maxBytes of the copied or other buckets, or copy fewer buckets`,
      });
  }
  return problems;
}
