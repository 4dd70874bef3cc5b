/**
 * What each resource change risks, from the server-level plan (change/change.ts: which server
 * is created, deleted, stopped and started, restarted or reloaded, and what that risks) and the
 * resource itself: a data volume or claim deleted or replaced loses data; an ingress widened is
 * an exposure. Also the order servers restart in, per cluster or leaf site.
 */
import type { ChangePlan, Risk, ServerChange } from "../change/change";
import type { DeployedServer } from "../change/deployment";
import { exposureOf } from "./exposure";
import type { PlannedResource } from "./plan-json";
import type { ResourceChange } from "./resources";

export type PreviewRisk = Risk | "exposure";

const DATA_VOLUME = "aws:ebs/volume:Volume";
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
const INSTANCE = "aws:ec2/instance:Instance";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
const SECRET = "kubernetes:core/v1:Secret";

/**
 * Which of its servers' risks a resource's change carries: what runs the server carries them all
 * (its data, its restart, the quorum); its configuration what a config change sets off. A data
 * volume grows in place: only its own delete or replace risks data.
 */
const INHERITED: Readonly<Record<string, readonly Risk[]>> = {
  [INSTANCE]: ["data-loss", "quorum", "restart"],
  [STATEFUL_SET]: ["data-loss", "quorum", "restart"],
  "aws:ssm/parameter:Parameter": ["quorum", "restart", "reload"],
  [SECRET]: ["quorum", "restart", "reload"],
};

export const metadataName = (inputs: Record<string, unknown> | undefined): string | undefined => {
  const name = (inputs?.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : undefined;
};

/**
 * The servers a resource belongs to. AWS children are named for their server (`zester-core-0`,
 * `zester-core-0-data`, `core-0-…` before the prefix); a StatefulSet holds the pods named
 * `<set>-<ordinal>`; a claim holds a server's data; the config Secret one key per server.
 */
export function serversOf(change: ResourceChange, servers: readonly DeployedServer[]): string[] {
  const inputs = change.after?.inputs ?? change.before?.inputs;
  if (change.type.startsWith("kubernetes:")) {
    const name = metadataName(inputs);
    if (change.type === STATEFUL_SET && name !== undefined)
      return servers.filter((s) => new RegExp(`^${escape(name)}-\\d+$`).test(s.name)).map((s) => s.name);
    if (change.type === CLAIM) return servers.filter((s) => s.data?.volume === name).map((s) => s.name);
    if (change.type === SECRET) {
      const keys = Object.keys(inputs?.stringData ?? {});
      return servers.filter((s) => keys.includes(`${s.name}.conf`)).map((s) => s.name);
    }
    return [];
  }
  const owner = servers
    .filter((s) => [`zester-${s.name}`, s.name].some((n) => change.name === n || change.name.startsWith(`${n}-`)))
    // `core-1` and `region-1-core-1`: the longest name that matches is the owner.
    .sort((a, b) => b.name.length - a.name.length)[0];
  return owner === undefined ? [] : [owner.name];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The namespaces that hold claims in a plan: deleting one deletes them (no claim option stops it). */
export function claimNamespaces(resources: readonly PlannedResource[]): Set<string> {
  const held = new Set<string>();
  for (const r of resources) {
    const namespace = (r.inputs.metadata as { namespace?: unknown } | undefined)?.namespace;
    if (r.type === CLAIM && typeof namespace === "string") held.add(namespace);
  }
  return held;
}

/**
 * The risks of one resource change, given the servers' plan and the namespaces that held claims
 * before it.
 */
export function risksOf(
  change: ResourceChange,
  servers: readonly DeployedServer[],
  plan: ChangePlan,
  claimsIn: ReadonlySet<string> = new Set(),
): PreviewRisk[] {
  const risks = new Set<PreviewRisk>();
  if (exposureOf(change) !== undefined) risks.add("exposure");
  const destroys = change.action === "delete" || change.action === "replace";
  if ((change.type === DATA_VOLUME || change.type === CLAIM) && destroys) risks.add("data-loss");
  const namespace = metadataName(change.before?.inputs);
  if (change.type === NAMESPACE && destroys && namespace !== undefined && claimsIn.has(namespace))
    risks.add("data-loss");
  if (change.action === "create") return [...risks];
  const byServer = new Map(plan.changes.map((c) => [c.server, c]));
  const inherits = INHERITED[change.type] ?? [];
  for (const name of serversOf(change, servers))
    for (const risk of byServer.get(name)?.risks ?? []) if (inherits.includes(risk)) risks.add(risk);
  return [...risks].sort((a, b) => RISK_ORDER.indexOf(a) - RISK_ORDER.indexOf(b));
}

export const RISK_ORDER: readonly PreviewRisk[] = ["data-loss", "quorum", "restart", "exposure", "reload"];

export interface RestartGroup {
  /** The cluster (`main/zester`) or leaf site (`leaf site dmz`). */
  group: string;
  /** In the order they go down, one at a time. */
  servers: string[];
  how: string;
}

const ordinal = (name: string) => Number(/(\d+)$/.exec(name)?.[1] ?? 0);

/**
 * Who restarts, in which order. AWS: the agents (and, for a new instance type, the health gates)
 * take servers in ordinal order; Kubernetes: a StatefulSet rolls from its highest ordinal down.
 * Either way one server at a time, each waiting until the one before answers `/healthz`.
 */
export function restartOrder(
  target: string,
  servers: readonly DeployedServer[],
  changes: ServerChange[],
): RestartGroup[] {
  const restarting = new Map(
    changes.filter((c) => c.action === "restart" || c.action === "stop-start").map((c) => [c.server, c]),
  );
  const groups = new Map<string, DeployedServer[]>();
  for (const s of servers) {
    if (!restarting.has(s.name)) continue;
    const group = s.role === "leaf" ? `leaf site ${s.site ?? "?"}` : `cluster ${s.region}/${s.cluster ?? "?"}`;
    groups.set(group, [...(groups.get(group) ?? []), s]);
  }
  const kubernetes = target === "kubernetes";
  return [...groups].map(([group, members]) => {
    const ordered = [...members].sort((a, b) =>
      kubernetes ? ordinal(b.name) - ordinal(a.name) : ordinal(a.name) - ordinal(b.name),
    );
    const stops = ordered.some((s) => restarting.get(s.name)?.action === "stop-start");
    return {
      group,
      servers: ordered.map((s) => s.name),
      how: kubernetes
        ? "the StatefulSet replaces one pod at a time, highest ordinal first, each once the one before passes its startup probe (/healthz: JetStream caught up)"
        : stops
          ? "one instance at a time (stopped and started for its new type), each behind the health gate: the next waits until it and its peers answer /healthz"
          : "the agents restart one server at a time through lame duck, each once every peer answers /healthz",
    };
  });
}
