/**
 * What a running topology looks like through nats-server's monitoring endpoints (/varz,
 * /routez, /jsz, /leafz), and whether it has the intended shape.
 */
import { createConnection } from "node:net";
import { z } from "zod";
import { clientUrl, monitorUrl, type Role, type Topology, type TopologyServer } from "../topology/types";

export const VarzSchema = z
  .object({ server_name: z.string(), version: z.string(), connections: z.number() })
  .passthrough();
export const RoutezSchema = z
  .object({
    routes: z.array(z.object({ remote_name: z.string().optional(), remote_id: z.string() }).passthrough()).nullish(),
  })
  .passthrough();
export const JszSchema = z
  .object({
    meta_cluster: z
      .object({
        leader: z.string().optional(),
        cluster_size: z.number().optional(),
        /** The group's other members as this server knows them: itself and the leader left out. */
        replicas: z.array(z.object({ name: z.string() }).passthrough()).nullish(),
      })
      .passthrough()
      .optional(),
    config: z.object({ domain: z.string().optional() }).passthrough().optional(),
    account_details: z
      .array(
        z
          .object({
            name: z.string(),
            stream_detail: z
              .array(
                z
                  .object({ name: z.string(), config: z.object({ num_replicas: z.number() }).passthrough().optional() })
                  .passthrough(),
              )
              .nullish(),
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough();
export const LeafzSchema = z
  .object({
    leafnodes: z.number(),
    leafs: z.array(z.object({ name: z.string().optional(), account: z.string() }).passthrough()).nullish(),
  })
  .passthrough();

/** A monitoring endpoint's answer, parsed; undefined when the server does not answer (yet) or answers otherwise. */
export async function getMonitoring<T>(url: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const parsed = schema.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long a route mesh may take to form around a server just started before it is started again:
 * nats-server's duplicate-route race (seen on 2.9.10) can drop a route that then never comes back.
 */
export const ROUTE_WAIT_MS = 20_000;

/** The server a health error says lacks a route (`core-3 routes to 2 of 4 peers`), if it says so. */
export function lackingRoute(error: unknown): string | undefined {
  return /(?:^|[\s(])([\w.-]+?):? routes to \d+ of \d+ peers/m.exec(String(error))?.[1];
}

/**
 * Whether a health error says a cluster formed short of its plan: a route missing, or a meta group
 * smaller than planned (`status`'s "meta group of 3, planned 5", `waitMetaGroup`'s "core-0 sees a
 * meta group of 4, not 5"). Servers that hold nothing yet can be started again from empty stores.
 */
export function formedShort(error: unknown): boolean {
  return /meta group of \d+, (?:planned|not) \d+|routes to \d+ of \d+ peers/.test(String(error));
}

/** The members a short meta group lacks, as the meta-group wait names them ("(without core-3, core-4)"). */
export function shortOf(error: unknown): string[] {
  return /sees a meta group of \d+, not \d+ \(without ([^)]+)\)/.exec(String(error))?.[1]?.split(", ") ?? [];
}

export interface ServerStatus {
  name: string;
  role: Role;
  region: string;
  cluster: string | null;
  site: string | null;
  clientUrl: string;
  healthy: boolean;
  /** Why it is not healthy, when it is not. */
  problem: string | null;
  version: string | null;
  /** Distinct servers this one has routes to. */
  routes: number;
  /** Leaf connections: on a core server the ones that came in, on a leaf server its remotes. */
  leafLinks: number;
  metaLeader: string | null;
  metaClusterSize: number | null;
}

export interface StatusReport {
  tier: string;
  healthy: boolean;
  servers: ServerStatus[];
  /** The meta leader of each region (one JetStream meta group per region). */
  metaLeaders: Record<string, string | null>;
  metaLeader: string | null;
  /** Per region (each region of a supercluster is its own JetStream domain with its own buckets). */
  kv: { name: string; stream: string; region: string; replicas: number | null }[];
}

/**
 * Whether the client port takes connections. A restarting server answers on its monitoring port
 * while it is still recovering its JetStream store, before it opens the client port.
 */
export function acceptsClients(s: TopologyServer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: s.host, port: s.ports.client, timeout: 2_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => {
      done(true);
    });
    socket.once("error", () => {
      done(false);
    });
    socket.once("timeout", () => {
      done(false);
    });
  });
}

async function serverStatus(t: Topology, s: TopologyServer): Promise<ServerStatus> {
  const base = monitorUrl(s);
  const [varz, routez, jsz, leafz, listening] = await Promise.all([
    getMonitoring(`${base}/varz`, VarzSchema),
    getMonitoring(`${base}/routez`, RoutezSchema),
    s.jetstream ? getMonitoring(`${base}/jsz`, JszSchema) : Promise.resolve(undefined),
    getMonitoring(`${base}/leafz`, LeafzSchema),
    acceptsClients(s),
  ]);
  const cluster = t.clusters.find((c) => c.name === s.cluster);
  const routes = new Set((routez?.routes ?? []).map((r) => r.remote_name ?? r.remote_id)).size;
  const leafLinks = leafz?.leafnodes ?? 0;
  const expectsLeafOut = s.role === "leaf" || t.regionLinks.some((l) => l.region === s.region);
  let problem: string | null = null;
  if (varz === undefined) problem = "monitoring endpoint does not answer";
  else if (varz.server_name !== s.name) problem = `answers as "${varz.server_name}"`;
  else if (!listening) problem = "client port does not take connections yet";
  else if (cluster !== undefined && cluster.servers.length > 1 && routes < cluster.servers.length - 1)
    problem = `routes to ${routes} of ${cluster.servers.length - 1} peers`;
  else if (
    s.jetstream &&
    cluster !== undefined &&
    cluster.servers.length > 1 &&
    (jsz?.meta_cluster?.leader ?? "") === ""
  )
    problem = "no JetStream meta leader";
  else if (
    s.jetstream &&
    cluster !== undefined &&
    jsz?.meta_cluster?.cluster_size !== undefined &&
    jsz.meta_cluster.cluster_size !== cluster.servers.length
  ) {
    problem = `meta group of ${jsz.meta_cluster.cluster_size}, planned ${cluster.servers.length}`;
  } else if (expectsLeafOut && leafLinks < 1) problem = "leaf connection to its hub not up";
  return {
    name: s.name,
    role: s.role,
    region: s.region,
    cluster: s.cluster ?? null,
    site: s.site ?? null,
    clientUrl: clientUrl(s),
    healthy: problem === null,
    problem,
    version: varz?.version ?? null,
    routes,
    leafLinks,
    metaLeader:
      jsz?.meta_cluster?.leader ?? (s.jetstream && cluster?.servers.length === 1 && varz !== undefined ? s.name : null),
    metaClusterSize: jsz?.meta_cluster?.cluster_size ?? null,
  };
}

/** Stream replicas per region, from every core server (each lists only the streams it hosts). */
async function kvReplicas(t: Topology, region: string): Promise<Map<string, number>> {
  const replicas = new Map<string, number>();
  const cores = t.servers.filter((s) => s.jetstream && s.region === region);
  const all = await Promise.all(
    cores.map((s) => getMonitoring(`${monitorUrl(s)}/jsz?accounts=true&streams=true&config=true`, JszSchema)),
  );
  for (const jsz of all) {
    // Only the app account has JetStream (its JWT alone carries JetStream limits).
    for (const account of jsz?.account_details ?? []) {
      for (const stream of account.stream_detail ?? [])
        if (stream.config !== undefined) replicas.set(stream.name, stream.config.num_replicas);
    }
  }
  return replicas;
}

export async function status(t: Topology): Promise<StatusReport> {
  const servers = await Promise.all(t.servers.map((s) => serverStatus(t, s)));
  const metaLeaders: Record<string, string | null> = {};
  for (const c of t.clusters)
    metaLeaders[c.region] = servers.find((s) => s.cluster === c.name && s.metaLeader !== null)?.metaLeader ?? null;
  const kv: StatusReport["kv"] = [];
  for (const c of t.clusters) {
    const replicas = await kvReplicas(t, c.region);
    for (const b of t.plan.kv)
      kv.push({ name: b.name, stream: b.stream, region: c.region, replicas: replicas.get(b.stream) ?? null });
  }
  return {
    tier: t.tier,
    healthy: servers.every((s) => s.healthy),
    servers,
    metaLeaders,
    metaLeader: metaLeaders[t.clusters[0]?.region ?? ""] ?? null,
    kv,
  };
}

/** Polls until every server is healthy; throws with the last problems after `timeoutMs`. */
export async function waitHealthy(t: Topology, timeoutMs: number): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await status(t);
    if (report.healthy) return report;
    if (Date.now() > deadline) {
      const bad = report.servers.filter((s) => !s.healthy).map((s) => `${s.name}: ${String(s.problem)}`);
      throw new Error(`topology not healthy after ${timeoutMs / 1000} s:\n  ${bad.join("\n  ")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
