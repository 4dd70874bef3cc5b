/**
 * What a transition step waits for, seen through nats-server's monitoring endpoints and the
 * JetStream API: a meta group of the size the step expects (which is not yet, or no longer, the
 * planned one), leaf connections up, a single server answering, streams with current replicas.
 */
import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { z } from "zod";
import { acceptsClients, getMonitoring, JszSchema, LeafzSchema, RoutezSchema, VarzSchema } from "../jetstream/health";
import { followersOf, staleFollowers } from "../jetstream/stale-followers";
import { streamProblem } from "../jetstream/stream-whole";
import { monitorUrl, type TopologyServer } from "../topology/types";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `look` (undefined when all is well, else the problem) until it passes or `timeoutMs` is up. */
export async function until(what: string, timeoutMs: number, look: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = await look().catch((error: unknown) => String(error));
    if (problem === undefined) return;
    if (Date.now() > deadline) throw new Error(`${what}: not so after ${String(timeoutMs / 1000)} s (${problem})`);
    await sleep(100);
  }
}

/**
 * Why a server is not a member of a meta group of `size` with a leader; undefined when it is.
 * `members`: the group's planned members, to name those a short group lacks.
 */
async function metaProblem(
  s: TopologyServer,
  size: number,
  members: TopologyServer[] = [],
): Promise<string | undefined> {
  const base = monitorUrl(s);
  const [varz, routez, jsz] = await Promise.all([
    getMonitoring(`${base}/varz`, VarzSchema),
    getMonitoring(`${base}/routez`, RoutezSchema),
    getMonitoring(`${base}/jsz`, JszSchema),
  ]);
  if (varz === undefined) return `${s.name} does not answer`;
  if (varz.server_name !== s.name) return `${s.name}'s port answers as ${varz.server_name}`;
  const routes = new Set((routez?.routes ?? []).map((r) => r.remote_name ?? r.remote_id)).size;
  if (size > 1 && routes < size - 1) return `${s.name} routes to ${String(routes)} of ${String(size - 1)} peers`;
  if (size > 1 && (jsz?.meta_cluster?.leader ?? "") === "") return `${s.name} sees no meta leader`;
  if (size > 1 && jsz?.meta_cluster?.cluster_size !== size) {
    const missing = await missingFromMeta(jsz?.meta_cluster?.leader, members);
    return `${s.name} sees a meta group of ${String(jsz?.meta_cluster?.cluster_size)}, not ${String(size)}${missing.length > 0 ? ` (without ${missing.join(", ")})` : ""}`;
  }
  if (size === 1 && jsz === undefined) return `${s.name}'s JetStream does not answer`;
  // It answers on its monitoring port while it still loads its store, before its client port opens.
  if (!(await acceptsClients(s))) return `${s.name}'s client port does not take connections yet`;
  return undefined;
}

/**
 * The members the meta group lacks, as its leader lists the group (only the leader's /jsz names
 * the other members); none when the leader is not one of `members` or does not answer.
 */
async function missingFromMeta(leader: string | undefined, members: TopologyServer[]): Promise<string[]> {
  const led = members.find((m) => m.name === leader);
  if (led === undefined) return [];
  const replicas = (await getMonitoring(`${monitorUrl(led)}/jsz`, JszSchema))?.meta_cluster?.replicas;
  if (replicas == null) return [];
  const seen = new Set([led.name, ...replicas.map((r) => r.name)]);
  return members.filter((m) => !seen.has(m.name)).map((m) => m.name);
}

/** Whether `server` is, right now, a member of a meta group of `size` with a leader. */
export async function inMetaGroup(server: TopologyServer, size: number): Promise<boolean> {
  return (await metaProblem(server, size).catch((error: unknown) => String(error))) === undefined;
}

/** Every one of `servers` in a meta group of `size` (1: a single server answering with JetStream). */
export function waitMetaGroup(servers: TopologyServer[], size: number, timeoutMs: number): Promise<void> {
  return until(`a meta group of ${String(size)} (${servers.map((s) => s.name).join(", ")})`, timeoutMs, async () => {
    for (const s of servers) {
      const problem = await metaProblem(s, size, servers);
      if (problem !== undefined) return problem;
    }
    return undefined;
  });
}

/** Every one of `servers` has its leaf connection(s) up. */
export function waitLeafLinks(servers: TopologyServer[], timeoutMs: number): Promise<void> {
  return until(`leaf connections of ${servers.map((s) => s.name).join(", ")}`, timeoutMs, async () => {
    for (const s of servers) {
      const leafz = await getMonitoring(`${monitorUrl(s)}/leafz`, LeafzSchema);
      if ((leafz?.leafnodes ?? 0) < 1) return `${s.name} has no leaf connection`;
    }
    return undefined;
  });
}

/**
 * Why a stream would have no quorum once `leaving` is gone: fewer than a majority of its replicas
 * current on the other servers (its leader counts as current; if `leaving` leads, it hands off to a
 * current one as it leaves).
 */
export function quorumProblem(info: StreamInfo, leaving: string): string | undefined {
  const name = info.config.name;
  const leader = info.cluster?.leader ?? "";
  if (info.config.num_replicas <= 1)
    return leader === leaving ? `${name} has its one replica on ${leaving}` : undefined;
  if (leader === "") return `${name} has no leader`;
  const current = [leader, ...(info.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name)];
  const elsewhere = current.filter((n) => n !== leaving).length;
  const quorum = Math.floor(info.config.num_replicas / 2) + 1;
  if (elsewhere < quorum)
    return `${name} has ${String(elsewhere)} replicas current besides ${leaving}'s, ${String(quorum)} needed`;
  return undefined;
}

/**
 * How long a stream's followers may stand still behind a leader before it is asked to step down
 * (jetstream/stale-followers.ts); doubled after each ask, so a long catch-up still gets through.
 */
const BEHIND_QUIET_MS = 15_000;

function waitEveryStream(
  nc: NatsConnection,
  streams: string[],
  what: string,
  timeoutMs: number,
  problem: (info: StreamInfo) => string | undefined,
): Promise<void> {
  const stale = staleFollowers(nc, BEHIND_QUIET_MS);
  return until(what, timeoutMs, async () => {
    const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
    for (const stream of streams) {
      const info = await jsm.streams.info(stream);
      const found = problem(info);
      if (found === undefined) {
        stale.settled(stream);
        continue;
      }
      if (/ replicas current/.test(found)) await stale.nudge(info);
      const asked = stale.asked(stream);
      return `${found}: ${followersOf(info)}${asked === 0 ? "" : `; its leader asked to step down ${String(asked)} times`}`;
    }
    return undefined;
  });
}

/** Every stream in `streams` whole, on the cluster `nc` is connected to. */
export function waitStreams(nc: NatsConnection, streams: string[], timeoutMs: number, without?: string): Promise<void> {
  return waitEveryStream(
    nc,
    streams,
    `streams with current replicas${without === undefined ? "" : ` off ${without}`}`,
    timeoutMs,
    (info) => streamProblem(info, without),
  );
}

/**
 * Every stream in `streams` keeps a quorum without `leaving` (which may have stopped already):
 * the replicas of the servers that stay are current.
 */
export function waitQuorumWithout(
  nc: NatsConnection,
  streams: string[],
  leaving: string,
  timeoutMs: number,
): Promise<void> {
  return waitEveryStream(nc, streams, `streams with a quorum current without ${leaving}`, timeoutMs, (info) =>
    quorumProblem(info, leaving),
  );
}

/** Waits until nats-server logs the outcome of a reload after `since` bytes of its log. */
export async function waitReloaded(
  readLog: () => string,
  since: number,
  server: string,
  timeoutMs: number,
): Promise<void> {
  await until(`${server} reloaded`, timeoutMs, () => {
    const tail = readLog().slice(since);
    if (/Failed to reload server configuration/.test(tail))
      throw new Error(`${server} refused the reload: ${/Failed to reload[^\n]*/.exec(tail)?.[0] ?? ""}`);
    return Promise.resolve(/Reloaded server configuration/.test(tail) ? undefined : "no reload logged yet");
  });
}

const RaftzSchema = z.record(z.record(z.object({ size: z.number() }).passthrough()));
const StreamGroupsSchema = z
  .object({
    account_details: z
      .array(
        z
          .object({
            name: z.string(),
            id: z.string().optional(),
            stream_detail: z
              .array(
                z
                  .object({
                    name: z.string(),
                    stream_raft_group: z.string().optional(),
                    cluster: z.object({ raft_group: z.string().optional() }).passthrough().optional(),
                    config: z.object({ num_replicas: z.number() }).passthrough().optional(),
                  })
                  .passthrough(),
              )
              .nullish(),
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough();

const groupOf = (d: { stream_raft_group?: string; cluster?: { raft_group?: string } }): string | undefined =>
  d.stream_raft_group ?? d.cluster?.raft_group;

/**
 * Each stream's raft group size (the largest any of `servers` reports) next to its replicas, read
 * from /raftz (nats-server 2.10 and later; a server without it reports nothing).
 */
export async function groupSizes(servers: TopologyServer[]): Promise<Map<string, { size: number; replicas: number }>> {
  const found = new Map<string, { size: number; replicas: number }>();
  for (const s of servers) {
    const base = monitorUrl(s);
    const jsz = await getMonitoring(`${base}/jsz?accounts=true&streams=true&config=true&raft=true`, StreamGroupsSchema);
    for (const account of jsz?.account_details ?? []) {
      const streams = (account.stream_detail ?? []).filter((d) => groupOf(d) !== undefined);
      if (streams.length === 0) continue;
      // /raftz names an account by its key (`id`), /jsz by its name.
      const key = account.id ?? account.name;
      const raftz = await getMonitoring(`${base}/raftz?acc=${encodeURIComponent(key)}`, RaftzSchema);
      const groups = raftz?.[key] ?? {};
      for (const d of streams) {
        const size = groups[groupOf(d) ?? ""]?.size;
        const replicas = d.config?.num_replicas;
        if (size === undefined || replicas === undefined) continue;
        found.set(d.name, { size: Math.max(size, found.get(d.name)?.size ?? 0), replicas });
      }
    }
  }
  return found;
}

/**
 * Streams whose raft group, on any of `servers`, counts more voters than the stream has replicas.
 * nats-server 2.10's removal of a server can leave it in a stream's group: seen on 2.10.27 after
 * cluster-5 → cluster-3, a group of size 4 (quorum 3) on three servers, which has no quorum as
 * soon as one member stops.
 */
export async function oversizedGroups(servers: TopologyServer[]): Promise<string[]> {
  return [...(await groupSizes(servers))].filter(([, g]) => g.size > g.replicas).map(([stream]) => stream);
}
