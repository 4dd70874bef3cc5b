/**
 * From what is deployed to what is wanted: what happens to each server, what it risks, and what
 * is refused because no update can do it safely. Refused: deleting or replacing JetStream data
 * (a data volume deleted, a server removed, data moved to another kind of disk, an instance-store
 * server stopped), a standalone server turned into a cluster member (no in-place path: the data
 * has to be copied), and taking more voters of a cluster down at once than it survives. Pure.
 */
import { z } from "zod";
import type { DeployedServer, Deployment } from "./deployment";

/**
 * What a change puts at stake. A tier transition adds two of its own: `writes-paused` (clients'
 * writes are refused for a while: a data copy, the restart of a single server) and
 * `fewer-replicas` (streams run below their planned replicas until a later step restores them).
 */
export const RISKS = ["data-loss", "restart", "quorum", "reload", "writes-paused", "fewer-replicas"] as const;
export const RiskSchema = z.enum(RISKS);
export type Risk = z.infer<typeof RiskSchema>;

export type ServerAction = "create" | "delete" | "stop-start" | "restart" | "reload" | "none";

export interface ServerChange {
  server: string;
  action: ServerAction;
  risks: Risk[];
  /** What changes, in words. */
  why: string[];
}

export interface Refusal {
  server: string;
  risk: Risk;
  reason: string;
}

export interface ChangePlan {
  changes: ServerChange[];
  refused: Refusal[];
}

const voterClusters = (d: Deployment): Map<string, DeployedServer[]> => {
  const clusters = new Map<string, DeployedServer[]>();
  for (const s of d.servers)
    if (s.role === "core" && s.cluster !== undefined)
      clusters.set(`${s.region}/${s.cluster}`, [...(clusters.get(`${s.region}/${s.cluster}`) ?? []), s]);
  return clusters;
};

/** Voters a JetStream meta group of `n` survives losing at once (a Raft majority stays). */
export const tolerates = (n: number): number => Math.floor((n - 1) / 2);

export function planChange(before: Deployment | undefined, after: Deployment): ChangePlan {
  if (before === undefined)
    return {
      changes: after.servers.map((s) => ({ server: s.name, action: "create", risks: [], why: ["new"] })),
      refused: [],
    };
  const refused: Refusal[] = [];
  const now = new Map(after.servers.map((s) => [s.name, s]));
  const changes: ServerChange[] = [];
  for (const old of before.servers) {
    const next = now.get(old.name);
    changes.push(next === undefined ? removal(old, refused) : serverChange(old, next, refused));
  }
  const known = new Set(before.servers.map((s) => s.name));
  for (const s of after.servers)
    if (!known.has(s.name)) changes.push({ server: s.name, action: "create", risks: [], why: ["new"] });
  checkStandaloneToCluster(before, after, refused);
  checkAccounts(before, after, refused);
  checkQuorum(before, changes, refused);
  return { changes, refused };
}

function removal(old: DeployedServer, refused: Refusal[]): ServerChange {
  if (old.data === undefined) return { server: old.name, action: "delete", risks: [], why: ["removed"] };
  refused.push({
    server: old.name,
    risk: "data-loss",
    reason: `removing ${old.name} deletes its JetStream data (${old.data.kind} ${old.data.volume}); its stream replicas must move to the servers that stay first`,
  });
  return { server: old.name, action: "delete", risks: ["data-loss"], why: ["removed, with its data"] };
}

function serverChange(old: DeployedServer, next: DeployedServer, refused: Refusal[]): ServerChange {
  const why: string[] = [];
  const risks = new Set<Risk>();
  const rebound = moved(old, next);
  if (old.data !== undefined && (next.data?.kind !== old.data.kind || next.data.volume !== old.data.volume)) {
    risks.add("data-loss");
    refused.push({
      server: old.name,
      risk: "data-loss",
      reason: `${old.name}'s JetStream data would move from ${old.data.kind} ${old.data.volume} to ${next.data === undefined ? "nowhere" : `${next.data.kind} ${next.data.volume}`}: the old data is not carried over`,
    });
  } else if (old.data !== undefined && rebound.length > 0) {
    risks.add("data-loss");
    for (const { label, from, to } of rebound)
      refused.push({
        server: old.name,
        risk: "data-loss",
        reason: `${old.name}'s JetStream data (${old.data.kind} ${old.data.volume}) is bound to its ${label} ${from}; ${to} would replace the ${old.data.kind === "claim" ? "claim" : "volume"} and delete the data with it (no provider moves a store). Keep the ${label} as it is; moving the data is a new deployment next to this one`,
      });
  } else if (
    old.data?.sizeGiB !== undefined &&
    next.data?.sizeGiB !== undefined &&
    next.data.sizeGiB < old.data.sizeGiB
  ) {
    risks.add("data-loss");
    refused.push({
      server: old.name,
      risk: "data-loss",
      reason: `${old.name}'s ${old.data.kind === "claim" ? "claim" : "volume"} ${old.data.volume} would shrink from ${String(old.data.sizeGiB)} GiB to ${String(next.data.sizeGiB)} GiB: ${old.data.kind === "claim" ? "Kubernetes refuses a claim's storage request below the one it has" : "EC2's ModifyVolume refuses a smaller size"}, so the update would stop half-way, and a smaller store is only had as a new one, without the data. Keep zester:overrides.server.jetstreamDiskGiB (or the tier's planned disk) at ${String(old.data.sizeGiB)} GiB or more`,
    });
  } else if (old.data !== undefined && next.data?.detail !== old.data.detail)
    why.push(`data ${old.data.detail} → ${next.data?.detail ?? "none"}, in place`);
  let action: ServerAction = "none";
  const arches = [old.host, next.host].map(ec2Architecture);
  if (arches[0] !== undefined && arches[1] !== undefined && arches[0] !== arches[1]) {
    risks.add("restart");
    refused.push({
      server: old.name,
      risk: "restart",
      reason: `${old.name} would change from ${old.host} (${arches[0]}) to ${next.host} (${arches[1]}) in place: an instance keeps its image, and EC2 refuses to start an ${arches[1]} type on an ${arches[0]} image once the instance has stopped, leaving the server down; a stack of the other architecture is a new deployment (docs/aws.md)`,
    });
  }
  if (next.host !== old.host) {
    action = "stop-start";
    why.push(`host ${old.host} → ${next.host}`);
    risks.add("restart");
    if (old.data?.kind === "instance-store") {
      risks.add("data-loss");
      refused.push({
        server: old.name,
        risk: "data-loss",
        reason: `${old.name} keeps JetStream on instance-store NVMe, which a stop wipes; it cannot change from ${old.host} to ${next.host} in place`,
      });
    }
  } else if (next.restart !== old.restart) {
    action = "restart";
    why.push("a change nats-server applies only when it starts");
    risks.add("restart");
  } else if (next.reload !== old.reload) {
    action = "reload";
    why.push("config reloaded (SIGHUP)");
    risks.add("reload");
  }
  if (next.cluster !== old.cluster)
    refused.push({
      server: old.name,
      risk: "data-loss",
      reason: `${old.name} would move from cluster ${String(old.cluster)} to ${String(next.cluster)}: its JetStream data belongs to the old one`,
    });
  return { server: old.name, action, risks: [...risks], why };
}

/** What a store is bound to and would change: each label both records name, with its two values. */
function moved(old: DeployedServer, next: DeployedServer): { label: string; from: string; to: string }[] {
  const [was, now] = [old.data?.placement, next.data?.placement];
  if (was === undefined || now === undefined) return [];
  return Object.keys(was).flatMap((label) => {
    const [from, to] = [was[label], now[label]];
    return from === undefined || to === undefined || from === to ? [] : [{ label, from, to }];
  });
}

/**
 * The processor architecture of an EC2 instance type, from AWS's naming (a `g` among the attribute
 * letters after the generation: AWS Graviton, arm64; e.g. c7g, c7gd, t4g, x2gd), or undefined for
 * a host that is not an instance type (a Kubernetes node, a local process).
 */
export function ec2Architecture(host: string): "arm64" | "x86_64" | undefined {
  const m = /^([a-z]+)(\d+)([a-z-]*)\.[a-z0-9]+$/.exec(host);
  if (m === null) return undefined;
  return (m[3] ?? "").includes("g") ? "arm64" : "x86_64";
}

/** A single server gaining peers: nats-server has no in-place path from standalone to a cluster. */
function checkStandaloneToCluster(before: Deployment, after: Deployment, refused: Refusal[]): void {
  const wantClusters = voterClusters(after);
  for (const [key, servers] of voterClusters(before)) {
    const grown = wantClusters.get(key);
    const single = servers[0];
    if (servers.length === 1 && single !== undefined && grown !== undefined && grown.length > 1)
      refused.push({
        server: single.name,
        risk: "data-loss",
        reason: `${single.name} runs alone; a standalone server cannot become a member of a ${String(grown.length)}-server cluster keeping its JetStream data (measured: the streams are gone after the restart). The data has to be copied into a new cluster`,
      });
  }
}

/**
 * A deployment from before per-peel identities keeps its streams in the account `ZESTER`; the
 * servers now name the app account by its key, so they would come up without them.
 */
function checkAccounts(before: Deployment, after: Deployment, refused: Refusal[]): void {
  if (before.accounts === after.accounts || after.accounts === undefined) return;
  const core = before.servers.find((s) => s.data !== undefined);
  if (core === undefined) return;
  refused.push({
    server: core.name,
    risk: "data-loss",
    reason: `the servers would move to per-peel identities (operator mode, docs/security.md), which names the app account by its key instead of ZESTER: JetStream keeps every KV bucket and job-events under the account's name, so the servers would come up without them. Back up the streams (\`nats stream backup\`) and restore them after, into a new stack or this one once it runs the new version`,
  });
}

/**
 * Servers restart one after another, each waiting until it is healthy (JetStream caught up)
 * before the next: one voter down at a time. Removed voters are down for good, at once.
 */
function checkQuorum(before: Deployment, changes: ServerChange[], refused: Refusal[]): void {
  const action = new Map(changes.map((c) => [c.server, c.action]));
  for (const [key, voters] of voterClusters(before)) {
    if (voters.length < 2) continue;
    const removed = voters.filter((v) => action.get(v.name) === "delete").length;
    const rolling = voters.some((v) => ["restart", "stop-start"].includes(action.get(v.name) ?? "none")) ? 1 : 0;
    const down = removed + rolling;
    if (down > tolerates(voters.length)) {
      for (const c of changes)
        if (voters.some((v) => v.name === c.server) && c.action !== "none") c.risks.push("quorum");
      refused.push({
        server: voters[0]?.name ?? key,
        risk: "quorum",
        reason: `cluster ${key} has ${String(voters.length)} voters and survives ${String(tolerates(voters.length))} down at once; this change takes ${String(down)} down together`,
      });
    }
  }
}

/**
 * A change no update can make safely: thrown before anything is created. `note` (a paragraph
 * after the list) says what would make it possible; `headline` replaces the first line.
 */
export class ChangeRefused extends Error {
  constructor(
    readonly refusals: Refusal[],
    note?: string,
    headline = "refused: this update could lose data or quorum, so nothing was changed:",
  ) {
    super(
      `${headline}\n${refusals.map((r) => `- [${r.risk}] ${r.reason}`).join("\n")}${note === undefined ? "" : `\n${note}`}`,
    );
    this.name = "ChangeRefused";
  }
}

/** The change from `before` to `after`, or ChangeRefused when any of it cannot be made safely. */
export function checkChange(before: Deployment | undefined, after: Deployment): ChangePlan {
  const plan = planChange(before, after);
  if (plan.refused.length > 0) throw new ChangeRefused(plan.refused);
  return plan;
}
