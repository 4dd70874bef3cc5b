/**
 * The steps of a transition, from the difference between two topologies: per cluster (matched
 * by name, which clusters keep across tiers), per leaf site and per region. What each case does:
 *
 * - a single server that becomes a cluster: nats-server has no in-place path (its streams are
 *   gone after the restart into a cluster), so the other members start as a cluster of their own,
 *   writes stop, every stream is copied into them, the server that keeps its name changes over and
 *   joins them, replicas are raised; its old store is deleted last. A cluster that becomes a single
 *   server is the same in reverse;
 * - a cluster that grows adds members; one that shrinks moves each leaving member's replicas onto
 *   the others first, one member at a time;
 * - leaf sites and regions are added after the servers they connect to can take them, and removed
 *   before those servers stop listening for them. A region is never removed: its buckets are its
 *   peels' state and no other region holds them.
 * Growing, config changes come first (new listeners before what connects to them); shrinking,
 * they come last.
 */
import { targetReplicas } from "../sizing/kv";
import { tierIndex } from "../sizing/split";
import { planChange, type Refusal, type Risk, type ServerChange } from "./change";
import type { Deployment } from "./deployment";
import type { StepKind, TransitionInput, TransitionStep } from "./transition";
import type { Topology, TopologyCluster, TopologyLeafSite } from "../topology/types";

type Draft = Omit<TransitionStep, "id">;

const list = (names: string[]): string =>
  names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`;
const plural = (n: number, one: string, many = `${one}s`): string => `${String(n)} ${n === 1 ? one : many}`;

function restrict(d: Deployment, keep: Set<string>): Deployment {
  return { ...d, servers: d.servers.filter((s) => keep.has(s.name)) };
}

/** The replicas each bucket of a cluster of `size` servers gets under a topology's plan, by stream. */
function replicasOf(t: Topology, size: number): Map<string, number> {
  return new Map(t.plan.kv.map((b) => [b.stream, targetReplicas(b, size)]));
}

const sameReplicas = (a: Map<string, number>, b: Map<string, number>): boolean =>
  [...b].every(([stream, r]) => a.get(stream) === r);

/** Whether the wanted tier is above the current one (or the same tier with more peels). */
function growing(input: TransitionInput): boolean {
  const [from, to] = [tierIndex(input.from.tier), tierIndex(input.to.tier)];
  return to > from || (to === from && input.to.plan.peels >= input.from.plan.peels);
}

interface Plan {
  expand: Draft[];
  move: Draft[];
  contract: Draft[];
  refused: Refusal[];
}

export function transitionSteps(input: TransitionInput): { steps: TransitionStep[]; refused: Refusal[] } {
  const plan: Plan = { expand: [], move: [], contract: [], refused: [] };
  const { from, to } = input;
  const up = growing(input);
  const replaced = new Set<string>();

  for (const cluster of from.clusters)
    if (!to.clusters.some((c) => c.name === cluster.name))
      plan.refused.push({
        server: cluster.servers[0] ?? cluster.name,
        risk: "data-loss",
        reason: `region ${cluster.region} (cluster ${cluster.name}) would be removed: its KV buckets and job-events hold its own peels' state and no other region has a copy. Move its peels to another region and keep the region, or keep the peel count`,
      });

  // What happens to each cluster's data: copies and replica moves (the move phase).
  const dataSteps: Draft[] = [];
  const additions: Draft[] = [];
  const removals: Draft[] = [];
  for (const wanted of to.clusters) {
    const current = from.clusters.find((c) => c.name === wanted.name);
    if (current === undefined) additions.push(...regionAdded(to, wanted));
    else clusterSteps(input, current, wanted, { dataSteps, additions, removals, replaced, refused: plan.refused });
  }
  leafSiteSteps(from, to, additions, removals);

  const configChanges = serverConfigSteps(input, replaced, plan.refused);
  if (up) plan.expand.push(...configChanges, ...additions);
  else plan.expand.push(...additions);
  plan.move.push(...dataSteps);
  plan.contract.push(...removals);
  if (!up) plan.contract.push(...configChanges);

  const steps = [...plan.expand, ...plan.move, ...plan.contract].map((draft, i): TransitionStep => ({
    id: `${String(i + 1).padStart(2, "0")}-${draft.kind}`,
    ...draft,
  }));
  return { steps, refused: plan.refused };
}

interface ClusterSink {
  dataSteps: Draft[];
  additions: Draft[];
  removals: Draft[];
  replaced: Set<string>;
  refused: Refusal[];
}

function clusterSteps(
  input: TransitionInput,
  current: TopologyCluster,
  wanted: TopologyCluster,
  sink: ClusterSink,
): void {
  const f = current.servers;
  const t = wanted.servers;
  const base = { region: wanted.region, cluster: wanted.name };
  if (f.length === 1 && t.length > 1) singleToCluster(input, current, wanted, sink);
  else if (f.length > 1 && t.length === 1) clusterToSingle(current, wanted, sink);
  else if (f.length > 1 && t.length > 1) {
    const added = t.filter((n) => !f.includes(n));
    const leaving = f.filter((n) => !t.includes(n));
    if (added.length > 0)
      sink.additions.push({
        ...base,
        phase: "expand",
        kind: "add-servers",
        servers: added,
        waitsFor: `routes between every member and a meta group of ${String(t.length)}`,
        risks: [],
        description: `${list(added)} join cluster ${wanted.name} (${String(f.length)} → ${String(t.length)} servers); the members that stay keep their routes (the first three are the seeds)`,
      });
    const fromReplicas = replicasOf(input.from, f.length);
    const toReplicas = replicasOf(input.to, t.length);
    // Shrinking: replicas above what the smaller cluster holds come down before any member leaves.
    const lowered = [...toReplicas].some(([stream, r]) => (fromReplicas.get(stream) ?? r) > r);
    if (leaving.length > 0 && lowered) sink.dataSteps.push(setReplicas(base, t, "lowered"));
    for (const name of [...leaving].reverse()) {
      sink.dataSteps.push({
        ...base,
        phase: "move",
        kind: "move-replicas",
        servers: [name],
        waitsFor: `every stream that had a replica on ${name} has its planned replicas current on the servers that stay`,
        risks: ["fewer-replicas"],
        description: `${name} stops (lame duck: its leaders hand off first) and is removed from the meta group; each stream that had a replica on it gets one on another member and catches up there`,
      });
      sink.removals.push(
        deleteData(
          base,
          [name],
          `${name} left cluster ${wanted.name}; its streams' replicas are on the members that stay`,
        ),
      );
    }
    if (!sameReplicas(fromReplicas, toReplicas) && !(leaving.length > 0 && lowered))
      sink.dataSteps.push(setReplicas(base, t, "planned"));
  }
  if (f.length === t.length || (f.length > 1 && t.length > 1)) {
    const limits = limitChange(input.from, input.to);
    if (limits !== undefined)
      sink.dataSteps.unshift({
        ...base,
        phase: "move",
        kind: "set-limits",
        servers: t,
        waitsFor: "every stream updated in place; none holds more than its new limit",
        risks: [],
        description: `every stream's max_bytes set to its share of the ${input.to.tier} tier's store (${limits}), ${limits.includes("↓") ? "before the servers' stores shrink; a stream holding more than its new limit stops the transition here, before anything is lost" : "now that the servers' stores have grown"}`,
      });
  }
}

/** How the streams' limits change between two plans, in words (undefined: they do not). */
function limitChange(from: Topology, to: Topology): string | undefined {
  const changed = to.plan.kv.filter((b) => from.plan.kv.find((x) => x.stream === b.stream)?.maxBytes !== b.maxBytes);
  if (changed.length === 0) return undefined;
  const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(n < 1024 ** 3 ? 2 : 0)} GiB`;
  const sample = changed.find((b) => b.name === "job-returns") ?? changed[0];
  const before = from.plan.kv.find((x) => x.stream === sample?.stream)?.maxBytes ?? 0;
  const after = sample?.maxBytes ?? 0;
  return `e.g. ${sample?.stream ?? ""} ${gib(before)} ${after < before ? "↓" : "↑"} ${gib(after)}`;
}

function setReplicas(base: { region: string; cluster: string }, servers: string[], why: "lowered" | "planned"): Draft {
  return {
    ...base,
    phase: "move",
    kind: "set-replicas",
    servers,
    waitsFor: "every stream has a leader and its planned replicas current",
    risks: [],
    description:
      why === "lowered"
        ? `every stream's replicas lowered to what ${plural(servers.length, "server")} hold, before a member leaves (in place: a stream update, never re-created)`
        : `every KV bucket and job-events set to the replicas the wanted tier plans for ${plural(servers.length, "server")} (in place: a stream update, never re-created)`,
  };
}

function deleteData(base: { region: string; cluster: string }, servers: string[], why: string): Draft {
  return {
    ...base,
    phase: "contract",
    kind: "delete-data",
    servers,
    waitsFor: "nothing: it is the last use of that store",
    risks: [],
    description: `the JetStream store of ${list(servers)} is deleted: ${why}`,
  };
}

/**
 * A single server becomes a cluster. The members that do not share its name start first and form
 * a meta group among themselves (a majority of the planned size); writes stop, the data is copied
 * into them, the server that keeps its name changes over and joins.
 */
function singleToCluster(
  input: TransitionInput,
  current: TopologyCluster,
  wanted: TopologyCluster,
  sink: ClusterSink,
): void {
  const old = current.servers;
  const kept = wanted.servers.filter((n) => old.includes(n));
  const others = wanted.servers.filter((n) => !old.includes(n));
  const base = { region: wanted.region, cluster: wanted.name };
  if (others.length <= wanted.servers.length / 2) {
    sink.refused.push({
      server: old[0] ?? wanted.name,
      risk: "quorum",
      reason: `cluster ${wanted.name} would start with ${String(others.length)} of its ${String(wanted.servers.length)} members while ${list(kept)} still runs alone: too few for a meta leader to copy the data into`,
    });
    return;
  }
  for (const n of kept) sink.replaced.add(n);
  const copyReplicas = Math.min(Math.max(...input.to.plan.kv.map((b) => b.replicas)), others.length);
  sink.additions.push({
    ...base,
    phase: "expand",
    kind: "add-cluster",
    servers: others,
    waitsFor: `a meta leader among ${list(others)} (${String(others.length)} of the ${String(wanted.servers.length)} members; ${list(kept)} joins at the cut-over)`,
    risks: [],
    description: `${list(others)} start as cluster ${wanted.name} (domain unchanged) next to ${list(old)}, which keeps serving every client: no client is pointed at them yet`,
  });
  sink.dataSteps.push(
    {
      ...base,
      phase: "move",
      kind: "copy-data",
      servers: [...old, ...others],
      source: old,
      waitsFor: "every stream in the new cluster holds the old one's messages up to its last sequence",
      risks: ["writes-paused", "fewer-replicas"],
      description: `every KV bucket and job-events is copied into ${list(others)} at R${String(copyReplicas)} while writes go on (file streams as a snapshot restored with their sequence numbers, then rounds of catch-up keeping every sequence number); then writes to ${list(old)}'s streams stop (subjects moved aside: a write is refused, never lost) for the last difference only, and every copy is checked`,
    },
    {
      ...base,
      phase: "move",
      kind: "cut-over",
      servers: kept,
      waitsFor: `${list(kept)} in a meta group of ${String(wanted.servers.length)}, its clients reconnected`,
      risks: ["restart", "writes-paused"],
      description: `${list(kept)} stops (its old store kept aside, untouched) and starts again as a member of ${wanted.name} on the same client address: clients reconnect to it and write into the cluster`,
    },
    setReplicas(base, wanted.servers, "planned"),
  );
  sink.removals.push(deleteData(base, old, `the standalone store, copied into the cluster and superseded by it`));
}

/**
 * A cluster becomes a single server: the member that keeps its name leaves the cluster (the others
 * keep quorum) and starts alone and empty; writes stop, the data is copied into it from the
 * cluster, the other members stop.
 */
function clusterToSingle(current: TopologyCluster, wanted: TopologyCluster, sink: ClusterSink): void {
  const kept = wanted.servers.filter((n) => current.servers.includes(n));
  const others = current.servers.filter((n) => !kept.includes(n));
  const base = { region: wanted.region, cluster: wanted.name };
  if (kept.length === 0 || others.length <= current.servers.length / 2) {
    sink.refused.push({
      server: current.servers[0] ?? wanted.name,
      risk: "quorum",
      reason: `cluster ${wanted.name} keeps too few members to copy its data out while ${list(kept)} leaves it`,
    });
    return;
  }
  for (const n of kept) sink.replaced.add(n);
  sink.dataSteps.push(
    {
      ...base,
      phase: "move",
      kind: "cut-over",
      servers: kept,
      waitsFor: `${list(kept)} answers alone, empty; ${list(others)} still hold a meta leader`,
      risks: ["restart", "fewer-replicas"],
      description: `${list(kept)} leaves cluster ${wanted.name} (lame duck; its clustered store kept aside) and starts again as a single server on a client address no client knows, to be filled by the copy; ${list(others)} keep quorum, the data and the clients`,
    },
    {
      ...base,
      phase: "move",
      kind: "copy-data",
      servers: [...others, ...kept],
      source: others,
      waitsFor: `every stream on ${list(kept)} holds the cluster's messages up to its last sequence, and ${list(kept)} answers on its own client address`,
      risks: ["writes-paused"],
      description: `every KV bucket and job-events is copied into ${list(kept)} at R1 while writes go on (snapshots restored with their sequence numbers, then rounds of catch-up); then writes to the cluster's streams stop (subjects moved aside: a write is refused, never lost) for the last difference only, every copy is checked, and ${list(kept)} restarts on its own client address with its own config`,
    },
    {
      ...base,
      phase: "move",
      kind: "remove-servers",
      servers: others,
      waitsFor: `their clients reconnected to ${list(kept)}`,
      risks: [],
      description: `${list(others)} stop: the cluster's data is copied and its writes stopped, so nothing current is lost with it; their clients reconnect to ${list(kept)}`,
    },
  );
  sink.removals.push(
    deleteData(base, [...kept, ...others], `the cluster's stores, copied into ${list(kept)} and superseded by it`),
  );
}

function regionAdded(to: Topology, cluster: TopologyCluster): Draft[] {
  const base = { region: cluster.region, cluster: cluster.name };
  const hub = to.regionLinks.find((l) => l.region === cluster.region)?.hub;
  const replicas = Math.max(...[...replicasOf(to, cluster.servers.length).values()]);
  return [
    {
      ...base,
      phase: "expand",
      kind: "add-region",
      servers: cluster.servers,
      waitsFor: `a meta leader in ${cluster.name}${hub === undefined ? "" : ` and its leaf connection to region ${hub}`}`,
      risks: [],
      description: `region ${cluster.region} starts: cluster ${cluster.name}, its own JetStream domain and meta group${hub === undefined ? "" : `, linked to region ${hub} by leaf connections in the app account`}; it takes no client until its peels are pointed at it`,
    },
    {
      ...base,
      phase: "expand",
      kind: "create-buckets",
      servers: cluster.servers,
      waitsFor: "every bucket and job-events has a leader and current replicas",
      risks: [],
      description: `region ${cluster.region}'s own KV buckets and job-events, created at R${String(replicas)}`,
    },
  ];
}

const siteKey = (s: TopologyLeafSite): string => `${s.hub}/${s.name}`;

function leafSiteSteps(from: Topology, to: Topology, additions: Draft[], removals: Draft[]): void {
  const before = new Map(from.leafSites.map((s) => [siteKey(s), s]));
  const after = new Map(to.leafSites.map((s) => [siteKey(s), s]));
  for (const [key, site] of after) {
    const old = before.get(key);
    const base = { region: site.region, cluster: site.hub, site: site.name };
    const added = site.servers.filter((n) => !(old?.servers ?? []).includes(n));
    if (added.length > 0)
      additions.push({
        ...base,
        phase: "expand",
        kind: old === undefined ? "add-leaf-site" : "add-servers",
        servers: added,
        waitsFor: `every new leaf server's connection to cluster ${site.hub} is up`,
        risks: [],
        description:
          old === undefined
            ? `leaf site ${site.name} starts (${plural(added.length, "server")}, no JetStream of their own: they extend ${site.hub}'s); its peels connect to them, the core last as a fallback`
            : `${list(added)} join leaf site ${site.name} (${String(old.servers.length)} → ${String(site.servers.length)} servers)`,
      });
  }
  for (const [key, site] of before) {
    const kept = after.get(key)?.servers ?? [];
    const gone = site.servers.filter((n) => !kept.includes(n));
    if (gone.length > 0)
      removals.unshift({
        region: to.clusters.find((c) => c.name === site.hub)?.region ?? site.region,
        cluster: site.hub,
        site: site.name,
        phase: "contract",
        kind: "remove-servers",
        servers: gone,
        waitsFor: "their clients reconnected elsewhere",
        risks: [],
        description: `${list(gone)} ${kept.length === 0 ? `(leaf site ${site.name}) ` : ""}stop; they hold no JetStream data, and their peels reconnect to ${kept.length > 0 ? "the site's other servers" : "the core, the fallback every peel config lists"}`,
      });
  }
}

/** Reloads and restarts of the servers both topologies have and no step replaces. */
function serverConfigSteps(input: TransitionInput, replaced: Set<string>, refused: Refusal[]): Draft[] {
  const staying = new Set(
    input.from.servers.map((s) => s.name).filter((n) => input.to.servers.some((s) => s.name === n) && !replaced.has(n)),
  );
  const change = planChange(restrict(input.deployed, staying), restrict(input.wanted, staying));
  refused.push(...change.refused);
  const byName = new Map(change.changes.map((c) => [c.server, c]));
  const drafts: Draft[] = [];
  const groups: { cluster?: string; site?: string; region: string; servers: string[]; voters: boolean }[] = [
    ...input.to.clusters.map((c) => ({ cluster: c.name, region: c.region, servers: c.servers, voters: true })),
    ...input.to.leafSites.map((s) => ({
      cluster: s.hub,
      site: s.name,
      region: s.region,
      servers: s.servers,
      voters: false,
    })),
  ];
  for (const group of groups) {
    const changes = group.servers.map((n) => byName.get(n)).filter((c): c is ServerChange => c !== undefined);
    const base = {
      region: group.region,
      ...(group.cluster === undefined ? {} : { cluster: group.cluster }),
      ...(group.site === undefined ? {} : { site: group.site }),
    };
    const reloads = changes.filter((c) => c.action === "reload").map((c) => c.server);
    if (reloads.length > 0)
      drafts.push({
        ...base,
        phase: "expand",
        kind: "reload",
        servers: reloads,
        waitsFor: "each server logs the reload",
        risks: ["reload"],
        description: `${list(reloads)} reload their config (SIGHUP): only keys a reload applies change (max_connections, max_payload, write_deadline, users, routes); nothing restarts`,
      });
    for (const c of changes.filter((x) => x.action === "restart" || x.action === "stop-start"))
      drafts.push(restart(base, c, group.voters, group.servers.length));
  }
  return drafts.map((d) => (growing(input) ? d : { ...d, phase: "contract" }));
}

function restart(
  base: { region: string; cluster?: string; site?: string },
  change: ServerChange,
  voter: boolean,
  members: number,
): Draft {
  const alone = voter && members === 1;
  const risks: Risk[] = alone ? ["restart", "writes-paused"] : ["restart"];
  const kind: StepKind = "restart";
  return {
    ...base,
    phase: "expand",
    kind,
    servers: [change.server],
    waitsFor: !voter
      ? `${change.server}'s leaf connection to its hub is up again`
      : alone
        ? `${change.server} answers again with every stream loaded`
        : `${change.server} back in the meta group and every stream with a leader and current replicas (JetStream caught up)`,
    risks,
    description: `${change.server} ${change.action === "stop-start" ? "is stopped and started" : "restarts"} (${alone ? "a single server: its clients' writes pause until it is back" : "lame duck first: its leaders hand off"}): ${change.why.join("; ")}`,
  };
}
