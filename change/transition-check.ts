/**
 * The invariants every transition keeps, checked by walking its steps over a model of what runs:
 * - never more than one voter of a live cluster down at once, and always a majority up;
 * - never a store deleted while it holds the only current copy of a cluster's data;
 * - at the end, exactly the wanted servers run, each cluster's meta group is its wanted members,
 *   and every bucket has the replicas the wanted tier plans.
 * A cluster is live from the moment clients write to it; a cluster whose data was copied out and
 * whose writes stopped is retired, and its members may stop together. Pure.
 */
import { targetReplicas } from "../sizing/kv";
import { tolerates } from "./change";
import type { TransitionInput, TransitionStep } from "./transition";
import type { Topology } from "../topology/types";

/** One server's JetStream store: a name and how many times it has been started afresh. */
interface Store {
  server: string;
  generation: number;
  /** Holds the current data of its cluster (a member of the live group, or a copy target). */
  current: boolean;
  deleted: boolean;
}

interface Group {
  /** Voters, by name. */
  members: string[];
  /** Replicas of each stream. */
  replicas: Map<string, number>;
  /** Its data was copied out and its writes stopped: its members may stop together. */
  retired: boolean;
  /** Has data: it was the current one, or a copy completed into it. */
  holdsData: boolean;
}

interface Model {
  running: Set<string>;
  /** Per cluster name, the groups that carry it: the live one last. */
  groups: Map<string, Group[]>;
  stores: Store[];
  generation: Map<string, number>;
}

const replicasOf = (t: Topology, size: number): Map<string, number> =>
  new Map(t.plan.kv.map((b) => [b.stream, targetReplicas(b, size)]));

function initial(from: Topology): Model {
  const model: Model = {
    running: new Set(from.servers.map((s) => s.name)),
    groups: new Map(),
    stores: [],
    generation: new Map(),
  };
  for (const c of from.clusters) {
    model.groups.set(c.name, [
      { members: [...c.servers], replicas: replicasOf(from, c.servers.length), retired: false, holdsData: true },
    ]);
    for (const s of c.servers) model.stores.push({ server: s, generation: 0, current: true, deleted: false });
  }
  return model;
}

const live = (m: Model, cluster: string | undefined): Group | undefined =>
  cluster === undefined ? undefined : m.groups.get(cluster)?.at(-1);

const storeOf = (m: Model, server: string): Store | undefined =>
  m.stores.filter((s) => s.server === server && !s.deleted).at(-1);

function newStore(m: Model, server: string, current: boolean): void {
  const generation = (m.generation.get(server) ?? 0) + 1;
  m.generation.set(server, generation);
  m.stores.push({ server, generation, current, deleted: false });
}

/** Violations of the invariants, each naming the step; empty when the steps are safe. */
export function checkSteps(input: TransitionInput, steps: TransitionStep[]): string[] {
  const m = initial(input.from);
  const out: string[] = [];
  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) out.push(`${step.id}: the id is used twice`);
    ids.add(step.id);
    apply(input, m, step, (problem) => out.push(`${step.id}: ${problem}`));
  }
  final(input.to, m, (problem) => out.push(`at the end: ${problem}`));
  return out;
}

/** One voter of a live group down for the step: within what it survives, a majority up. */
function oneDown(group: Group | undefined, server: string, fail: (p: string) => void): void {
  if (group === undefined || group.retired || group.members.length < 2) return;
  const down = group.members.filter((n) => n === server).length;
  if (down > tolerates(group.members.length))
    fail(
      `takes ${server} down in a group of ${String(group.members.length)}, which survives ${String(tolerates(group.members.length))} down`,
    );
}

type Fail = (problem: string) => void;
type Effect = (input: TransitionInput, m: Model, step: TransitionStep, fail: Fail) => void;

function reload(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const notRunning = step.servers.filter((s) => !m.running.has(s));
  if (notRunning.length > 0) fail(`reloads ${notRunning.join(", ")}, which do not run`);
}

function restart(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const group = live(m, step.cluster);
  const [server] = step.servers;
  if (step.servers.length !== 1 || server === undefined) fail("restarts more than one server at once");
  else if (!m.running.has(server)) fail(`restarts ${server}, which does not run`);
  else if (group?.members.includes(server) === true) {
    oneDown(group, server, fail);
    if (group.members.length === 1 && !step.risks.includes("writes-paused"))
      fail(`restarts the only server of ${String(step.cluster)} without naming the write pause`);
  }
}

function addServers(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const group = live(m, step.cluster);
  for (const s of step.servers) {
    if (m.running.has(s)) fail(`adds ${s}, which already runs`);
    m.running.add(s);
    if (step.site === undefined && group !== undefined) {
      group.members.push(s);
      newStore(m, s, true);
    }
  }
}

/** A group of its own: a cluster's new members (a copy target) or a new region. */
function addGroup(input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const wanted = input.to.clusters.find((c) => c.name === step.cluster);
  if (wanted === undefined) {
    fail(`names cluster ${String(step.cluster)}, which the wanted topology does not have`);
    return;
  }
  if (step.servers.length <= wanted.servers.length / 2 && step.kind === "add-cluster")
    fail(`starts ${String(step.servers.length)} of ${String(wanted.servers.length)} members: no majority`);
  for (const s of step.servers) {
    if (m.running.has(s)) fail(`adds ${s}, which already runs`);
    m.running.add(s);
    // A new region's stores hold its data from the start; a copy target's once the copy is done.
    newStore(m, s, step.kind === "add-region");
  }
  const fresh: Group = {
    members: [...step.servers],
    replicas: new Map(),
    retired: false,
    holdsData: step.kind === "add-region",
  };
  m.groups.set(wanted.name, [...(m.groups.get(wanted.name) ?? []), fresh]);
}

function createBuckets(input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const group = live(m, step.cluster);
  if (group === undefined) fail("creates buckets in no cluster");
  else group.replicas = replicasOf(input.to, group.members.length);
}

function setReplicas(input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const group = live(m, step.cluster);
  if (group === undefined) {
    fail("sets replicas in no cluster");
    return;
  }
  group.replicas = replicasOf(input.to, input.to.clusters.find((c) => c.name === step.cluster)?.servers.length ?? 1);
  const above = [...group.replicas].filter(([, r]) => r > group.members.length);
  if (above.length > 0) fail(`sets R${String(above[0]?.[1])} in a group of ${String(group.members.length)}`);
}

function setLimits(_input: TransitionInput, _m: Model, step: TransitionStep, fail: Fail): void {
  if (step.phase !== "move") fail("sets limits outside the move phase");
}

function moveReplicas(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  const group = live(m, step.cluster);
  const [server] = step.servers;
  if (server === undefined || group === undefined || !group.members.includes(server)) {
    fail(`moves replicas off ${String(server)}, which is not a member of ${String(step.cluster)}`);
    return;
  }
  oneDown(group, server, fail);
  group.members = group.members.filter((n) => n !== server);
  const above = [...group.replicas].filter(([, r]) => r > group.members.length);
  if (above.length > 0)
    fail(`leaves ${String(group.members.length)} members for a stream of R${String(above[0]?.[1])}`);
  m.running.delete(server);
  const store = storeOf(m, server);
  if (store !== undefined) store.current = false;
}

function removeServers(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  for (const s of step.servers) {
    if (!m.running.has(s)) fail(`removes ${s}, which does not run`);
    const holder = [...m.groups.values()].flat().find((g) => g.members.includes(s) && !g.retired);
    if (holder !== undefined) fail(`stops ${s}, a voter of a live cluster, with the others`);
    m.running.delete(s);
  }
}

function deleteData(_input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  for (const s of step.servers) {
    const store = m.stores.find((x) => x.server === s && !x.deleted && !x.current);
    if (store === undefined) fail(`deletes ${s}'s store, which holds current data`);
    else store.deleted = true;
  }
}

const EFFECTS: Record<TransitionStep["kind"], Effect> = {
  reload,
  restart,
  "add-servers": addServers,
  "add-leaf-site": addServers,
  "add-cluster": addGroup,
  "add-region": addGroup,
  "create-buckets": createBuckets,
  "copy-data": copyData,
  "cut-over": (_input, m, step, fail) => {
    cutOver(m, step, fail);
  },
  "set-replicas": setReplicas,
  "set-limits": setLimits,
  "move-replicas": moveReplicas,
  "remove-servers": removeServers,
  "delete-data": deleteData,
};

function apply(input: TransitionInput, m: Model, step: TransitionStep, fail: Fail): void {
  EFFECTS[step.kind](input, m, step, fail);
}

function copyData(input: TransitionInput, m: Model, step: TransitionStep, fail: (p: string) => void): void {
  const groups = m.groups.get(step.cluster ?? "") ?? [];
  const target = groups.at(-1);
  const source = groups.find((g) => g !== target && !g.retired && g.holdsData);
  if (target === undefined || source === undefined) {
    fail("copies with no source and target group of the cluster");
    return;
  }
  if (target.members.length === 0) fail("copies into a group with no running member");
  const size = input.to.clusters.find((c) => c.name === step.cluster)?.servers.length ?? 1;
  target.replicas = new Map(
    input.to.plan.kv.map((b) => [b.stream, Math.min(targetReplicas(b, size), target.members.length)]),
  );
  target.holdsData = true;
  for (const s of target.members) {
    const store = storeOf(m, s);
    if (store !== undefined) store.current = true;
  }
  // Writes stopped on the source and its data is in the target: the source's stores are superseded.
  source.retired = true;
  for (const s of source.members) {
    const store = storeOf(m, s);
    if (store !== undefined) store.current = false;
  }
}

/**
 * The server that keeps its name changes over. Into a cluster: the old single server stops, the
 * new member starts with a fresh store and joins the group the data was copied into. Out of a
 * cluster: the member leaves (one voter down) and starts alone, empty, as the group copied into next.
 */
function cutOver(m: Model, step: TransitionStep, fail: (p: string) => void): void {
  const groups = m.groups.get(step.cluster ?? "") ?? [];
  const target = groups.at(-1);
  for (const server of step.servers) {
    const owner = groups.find((g) => g.members.includes(server));
    if (owner === undefined || target === undefined) {
      fail(`cuts ${server} over, which is in no group of ${String(step.cluster)}`);
      continue;
    }
    if (owner === target) {
      // Out of a cluster: it leaves the group that keeps the data, starts alone and empty.
      oneDown(owner, server, fail);
      owner.members = owner.members.filter((n) => n !== server);
      const store = storeOf(m, server);
      if (store !== undefined) store.current = false;
      newStore(m, server, false);
      m.groups.set(step.cluster ?? "", [
        ...groups,
        { members: [server], replicas: new Map(), retired: false, holdsData: false },
      ]);
    } else {
      // Into a cluster: the data must already be in the group it joins.
      if (!target.holdsData) fail(`cuts ${server} over into a group that holds no copy of the data yet`);
      owner.members = owner.members.filter((n) => n !== server);
      const store = storeOf(m, server);
      if (store !== undefined) store.current = false;
      newStore(m, server, true);
      target.members.push(server);
    }
  }
}

function final(to: Topology, m: Model, fail: (p: string) => void): void {
  const wanted = new Set(to.servers.map((s) => s.name));
  const extra = [...m.running].filter((s) => !wanted.has(s));
  const missing = [...wanted].filter((s) => !m.running.has(s));
  if (extra.length > 0) fail(`${extra.join(", ")} still run`);
  if (missing.length > 0) fail(`${missing.join(", ")} never started`);
  for (const c of to.clusters) {
    const group = live(m, c.name);
    if (group === undefined) {
      fail(`cluster ${c.name} was never formed`);
      continue;
    }
    if ([...group.members].sort().join() !== [...c.servers].sort().join())
      fail(`cluster ${c.name}'s meta group is ${group.members.join(", ")}, not ${c.servers.join(", ")}`);
    for (const [stream, r] of replicasOf(to, c.servers.length))
      if (group.replicas.get(stream) !== r)
        fail(`${stream} in ${c.name} ends at R${String(group.replicas.get(stream) ?? "?")}, planned R${String(r)}`);
  }
  const left = m.stores.filter((s) => !s.deleted && !s.current);
  if (left.length > 0) fail(`superseded stores never deleted: ${left.map((s) => s.server).join(", ")}`);
}
