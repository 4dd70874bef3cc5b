/**
 * A pull request's preview as plain data: the stack's plan at the base against the plan of the
 * change, with what happens to each server (change/change.ts), each resource and what it
 * risks, what is refused, the transition when the plan has one, the guide's checklist items the
 * new tier adds, and both topologies as Mermaid. Pure: the plans are read by the caller.
 */
import { planChange, type ServerChange } from "../change/change";
import type { ChecklistStatus } from "../components/checklist";
import type { Deployment } from "../change/deployment";
import { TIERS } from "../sizing/guide";
import type { TierId } from "../sizing/types";
import type { Role } from "../topology/types";
import { exposureOf } from "./exposure";
import { topologyDiagram } from "./mermaid";
import type { PlanJson, Transition } from "./plan-json";
import { diffResources, type ResourceAction } from "./resources";
import { claimNamespaces, restartOrder, risksOf, type PreviewRisk, type RestartGroup } from "./risks";

export interface ServerView {
  name: string;
  role: Role;
  region: string;
  cluster?: string;
  site?: string;
  /** What runs it: the instance type, or the pod's requests and image. */
  host: string;
  /** Where its JetStream data lives, e.g. "ebs gp3 200 GiB 5000 IOPS". */
  data?: string;
  cpuSteadyCores: number;
  cpuBurstCores: number;
  memoryMiB: number;
  diskGiB: number;
  diskIops: number;
  storage: string;
}

export interface Side {
  tier: TierId;
  peels: number;
  servers: ServerView[];
}

export interface PreviewChange {
  type: string;
  name: string;
  urn: string;
  action: ResourceAction;
  risks: PreviewRisk[];
  /** What changes (property paths). */
  properties: string[];
  /** What forces the replacement. */
  replacedBy: string[];
  /** What an exposure admits; how the provider goes about it. */
  notes: string[];
}

export interface NewlyDue {
  id: string;
  item: string;
  /** The tier that adds it. */
  since: TierId;
  /** What the target does about it: done, left to the operator, or Zester's own job. */
  status?: ChecklistStatus["status"];
  how?: string;
}

export interface Preview {
  stack: string;
  target: string;
  /** What the change is compared with (a git ref and commit, or a file). */
  base: string;
  /** Null for a stack the base does not have. */
  before: Side | null;
  after: Side;
  /** Servers that change, and how (change/change.ts). */
  servers: ServerChange[];
  restarts: RestartGroup[];
  changes: PreviewChange[];
  /** The refusal, as the plan words it; null when nothing is refused. */
  refused: string | null;
  refusals: { risk: string; reason: string }[];
  transition: Transition | null;
  checklist: NewlyDue[];
  mermaid: { before: string | null; after: string };
}

export interface PreviewInput {
  stack: string;
  base: string;
  before: PlanJson | null;
  after: PlanJson;
  /** The plan's refusal (its stderr without the `plan: ` prefix), when it refused. */
  refused: string | null;
}

export function buildPreview(input: PreviewInput): Preview {
  const { before, after } = input;
  const [was, now] = [before?.outputs.deployment, after.outputs.deployment];
  const serverPlan = now === undefined ? { changes: [], refused: [] } : planChange(was, now);
  const known = [
    ...(was?.servers ?? []),
    ...(now?.servers ?? []).filter((s) => was?.servers.every((w) => w.name !== s.name) ?? true),
  ];
  const claimsIn = claimNamespaces(before?.resources ?? []);
  const changes = diffResources(before?.resources ?? [], after.resources)
    .map((c) => ({
      type: c.type,
      name: c.name,
      urn: c.urn,
      action: c.action,
      risks: risksOf(c, known, serverPlan, claimsIn),
      properties: c.properties,
      replacedBy: c.replacedBy,
      notes: [...[exposureOf(c)].filter((e) => e !== undefined), ...c.notes],
    }))
    .sort(byKindThenName);
  const servers = serverPlan.changes.filter((c) => c.action !== "none");
  return {
    stack: input.stack,
    target: after.outputs.target,
    base: input.base,
    before: before === null ? null : side(before),
    after: side(after),
    servers,
    restarts: now === undefined ? [] : restartOrder(after.outputs.target, now.servers, servers),
    changes,
    refused: input.refused,
    refusals: refusalsOf(input.refused),
    transition: after.outputs.transition ?? null,
    checklist: newlyDue(before, after),
    mermaid: diagrams(before, after, servers),
  };
}

const byKindThenName = (a: PreviewChange, b: PreviewChange) =>
  a.type.localeCompare(b.type) || a.name.localeCompare(b.name, undefined, { numeric: true });

function side(plan: PlanJson): Side {
  const { sizing } = plan.outputs;
  const servers = (plan.outputs.deployment?.servers ?? []).map((s): ServerView => {
    const size = s.role === "leaf" ? (sizing.leafNode?.server ?? sizing.server) : sizing.server;
    return {
      name: s.name,
      role: s.role,
      region: s.region,
      ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
      ...(s.site === undefined ? {} : { site: s.site }),
      host: s.host,
      ...(s.data === undefined ? {} : { data: `${s.data.kind} ${s.data.detail}` }),
      cpuSteadyCores: size.cpuSteadyCores,
      cpuBurstCores: size.cpuBurstCores,
      memoryMiB: size.memoryMiB,
      diskGiB: size.jetstreamDiskGiB,
      diskIops: size.diskIops,
      storage: size.storage,
    };
  });
  return { tier: plan.outputs.tier, peels: plan.outputs.peels, servers };
}

/** `- [risk] reason` lines of a refusal (change/change.ts ChangeRefused). */
function refusalsOf(refused: string | null): { risk: string; reason: string }[] {
  if (refused === null) return [];
  return [...refused.matchAll(/^- \[([\w-]+)\] (.*)$/gm)].map((m) => ({ risk: m[1] ?? "", reason: m[2] ?? "" }));
}

/** In the new plan's checklist and not in the old one's, with how the target handles each. */
function newlyDue(before: PlanJson | null, after: PlanJson): NewlyDue[] {
  const had = new Set(before?.outputs.sizing.checklist.map((c) => c.id) ?? []);
  const handled = after.outputs.aws?.checklist ?? after.outputs.kubernetes?.checklist ?? [];
  return after.outputs.sizing.checklist
    .filter((c) => !had.has(c.id))
    .map((c) => {
      const how = handled.find((h) => h.id === c.id);
      return { ...c, ...(how === undefined ? {} : { status: how.status, how: how.how }) };
    });
}

/** "10,000+": where the guide's checklist section for a tier starts. */
export function tierEdge(tier: TierId): number {
  return TIERS.find((t) => t.id === tier)?.minPeels ?? 0;
}

function diagrams(before: PlanJson | null, after: PlanJson, servers: ServerChange[]): Preview["mermaid"] {
  const names = (d: Deployment | undefined) => new Set(d?.servers.map((s) => s.name) ?? []);
  const [was, now] = [names(before?.outputs.deployment), names(after.outputs.deployment)];
  const restarted = new Set(
    servers.filter((c) => c.action === "restart" || c.action === "stop-start").map((c) => c.server),
  );
  return {
    before: before === null ? null : topologyDiagram(before, { removed: new Set([...was].filter((n) => !now.has(n))) }),
    after: topologyDiagram(after, {
      added: new Set(before === null ? [] : [...now].filter((n) => !was.has(n))),
      restarted,
    }),
  };
}
