/**
 * Semantic checks that nats-server makes only at start-up, or never (a duplicate server name
 * silently shrinks the meta group). Each is an error here, before anything is rendered.
 */
import { MIN_LAME_DUCK_SECONDS } from "../sizing/policy";
import type { Topology } from "./types";

export class TopologyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid topology:\n- ${problems.join("\n- ")}`);
    this.name = "TopologyError";
  }
}

export function validate(t: Topology): void {
  const problems: string[] = [];
  const byName = new Map(t.servers.map((s) => [s.name, s]));

  const seen = new Set<string>();
  for (const s of t.servers) {
    if (seen.has(s.name))
      problems.push(
        `server name "${s.name}" is used twice; names must be unique across the whole topology, or routes are rejected and the meta group silently shrinks`,
      );
    seen.add(s.name);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s.name))
      problems.push(`server name "${s.name}" must be lowercase letters, digits and '-'`);
  }

  const endpoints = new Map<string, string>();
  for (const s of t.servers) {
    for (const [kind, port] of Object.entries(s.ports)) {
      const key = `${s.host}:${String(port)}`;
      const other = endpoints.get(key);
      if (other !== undefined) problems.push(`${s.name} ${kind} port ${key} is already taken by ${other}`);
      endpoints.set(key, `${s.name} ${kind}`);
    }
  }

  for (const c of t.clusters) {
    const members = c.servers.map((n) => byName.get(n));
    if (members.some((m) => m === undefined)) problems.push(`cluster "${c.name}" names a server that does not exist`);
    for (const m of members) {
      if (m === undefined) continue;
      if (c.servers.length === 1 && m.ports.cluster !== undefined) {
        problems.push(
          `${m.name} is a single server with a cluster port: a cluster {} block routing to itself never elects a meta leader`,
        );
      }
      if (c.servers.length > 1 && m.ports.cluster === undefined)
        problems.push(`${m.name} is in a ${c.servers.length}-server cluster but has no cluster port`);
      if (m.cluster !== c.name)
        problems.push(`${m.name} says it is in cluster "${String(m.cluster)}", not "${c.name}"`);
    }
  }

  const domains = new Set<string>();
  for (const s of t.servers) {
    if (s.domain === undefined) continue;
    if (/[.*>\s]/.test(s.domain) || s.domain === "")
      problems.push(`JetStream domain "${s.domain}" of ${s.name} may not be empty or contain '.', '*', '>' or spaces`);
    domains.add(`${s.region}=${s.domain}`);
  }
  const regionsWithDomain = [...domains].map((d) => d.split("=")[0]);
  if (new Set(regionsWithDomain).size !== regionsWithDomain.length)
    problems.push("servers of one region disagree on its JetStream domain");
  const domainNames = [...domains].map((d) => d.split("=")[1]);
  if (new Set(domainNames).size !== domainNames.length)
    problems.push("two regions share a JetStream domain; each region's streams must be told apart");
  const clusterNames = t.clusters.map((c) => c.name);
  if (new Set(clusterNames).size !== clusterNames.length)
    problems.push(`cluster names must be unique (a gateway or leaf link names them): ${clusterNames.join(", ")}`);

  const smallest = Math.min(...t.clusters.map((c) => c.servers.length));
  for (const b of t.plan.kv) {
    if (smallest === 1 && b.replicas > 1)
      problems.push(
        `bucket "${b.name}" has replicas ${b.replicas} on a single server: it would be lost after a restart`,
      );
    else if (b.replicas > smallest)
      problems.push(`bucket "${b.name}" has replicas ${b.replicas}, more than the ${smallest} servers of a cluster`);
  }

  if (t.plan.natsServer.lameDuckDurationSeconds < MIN_LAME_DUCK_SECONDS)
    problems.push(`lame duck duration must be at least ${MIN_LAME_DUCK_SECONDS} s`);

  const leafHubs = [
    ...t.leafSites.map((s) => s.hub),
    ...t.regionLinks.map((l) => t.clusters.find((c) => c.region === l.hub)?.name ?? `(region ${l.hub})`),
  ];
  for (const hub of leafHubs) {
    const cluster = t.clusters.find((c) => c.name === hub);
    if (cluster === undefined) problems.push(`leaf connections point at cluster "${hub}", which does not exist`);
    else if (cluster.servers.some((n) => byName.get(n)?.ports.leafnode === undefined))
      problems.push(`cluster "${hub}" takes leaf connections but not all its servers listen for them`);
  }

  if (problems.length > 0) throw new TopologyError(problems);
}
