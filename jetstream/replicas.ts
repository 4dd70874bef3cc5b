/**
 * Keeps a region's copies of other regions' KV buckets (sizing/replication.ts): each a stream that
 * mirrors the source bucket's stream through the source region's JetStream API
 * (`$JS.<domain>.API`, reached over the region link). Created once, limits and replicas kept in
 * place like the planned buckets'; never deleted, never re-pointed (a mirror's source cannot be
 * changed in place, and a stream is never deleted here).
 */
import { jetstreamManager, StorageType, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ReplicaPlan } from "../sizing/types";
import {
  API_TIMEOUT_MS,
  infoOrUndefined,
  plannedLimits,
  targetReplicas,
  untilServing,
  withRetries,
  type BucketChange,
  type ReconcileOptions,
} from "./reconcile";

/** The source's JetStream API as the copy's region reaches it: through the source's domain. */
export const mirrorApi = (replica: Pick<ReplicaPlan, "mirror">): string => `$JS.${replica.mirror.domain}.API`;

/**
 * The copy's stream: a KV bucket's settings (what nats.js's KV client expects when it opens it)
 * with a mirror instead of subjects. `mirror_direct` stays off: it would make the copy answer
 * direct gets for its source's stream name, which in this region is the region's own bucket.
 */
export function replicaStreamConfig(
  replica: ReplicaPlan,
  replicas: number,
): Partial<StreamConfig> & Pick<StreamConfig, "name"> {
  return {
    name: replica.stream,
    mirror: { name: replica.mirror.stream, external: { api: mirrorApi(replica), deliver: "" } },
    storage: replica.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: replica.history,
    ...plannedLimits(replica),
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
    mirror_direct: false,
  };
}

export async function reconcileReplicas(
  nc: NatsConnection,
  replicas: ReplicaPlan[],
  options: ReconcileOptions,
): Promise<BucketChange[]> {
  // A region that keeps no copies makes no request at all: the job runs as it did before.
  if (replicas.length === 0) return [];
  const jsm = await jetstreamManager(nc, { timeout: API_TIMEOUT_MS });
  const changes: BucketChange[] = [];
  for (const replica of replicas) changes.push(await withRetries(() => reconcileReplica(nc, jsm, replica, options)));
  return changes;
}

async function reconcileReplica(
  nc: NatsConnection,
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  replica: ReplicaPlan,
  options: ReconcileOptions,
): Promise<BucketChange> {
  const replicas = targetReplicas(replica, options.clusterSize);
  const wanted = replicaStreamConfig(replica, replicas);
  const info = await infoOrUndefined(jsm, replica.stream);
  if (info === undefined) {
    await jsm.streams.add(wanted);
    await untilServing(nc, jsm, replica.stream, replicas);
    return { stream: replica.stream, action: "created", replicas };
  }
  const mirror = info.config.mirror;
  if (mirror?.name !== replica.mirror.stream || mirror.external?.api !== mirrorApi(replica))
    throw new Error(
      `stream ${replica.stream} exists but is not a mirror of ${replica.mirror.stream} through ${mirrorApi(replica)} ` +
        `(it mirrors ${mirror === undefined ? "nothing" : `${mirror.name} through ${mirror.external?.api ?? "this domain"}`}); ` +
        `a mirror's source cannot be changed in place: move its data aside and delete the stream, then reconcile again`,
    );
  const limits = plannedLimits(replica);
  const from = info.config.num_replicas;
  const drifted =
    info.config.max_bytes !== limits.max_bytes ||
    info.config.max_age !== limits.max_age ||
    info.config.discard !== limits.discard ||
    info.config.max_msgs_per_subject !== replica.history;
  if (from === replicas && !drifted) return { stream: replica.stream, action: "unchanged", replicas };
  await jsm.streams.update(replica.stream, {
    ...info.config,
    num_replicas: replicas,
    max_msgs_per_subject: replica.history,
    ...limits,
  });
  await untilServing(nc, jsm, replica.stream, replicas);
  const action = from < replicas ? "replicas-raised" : from > replicas ? "replicas-lowered" : "limits-changed";
  return { stream: replica.stream, action, replicas, ...(from === replicas ? {} : { from }) };
}
