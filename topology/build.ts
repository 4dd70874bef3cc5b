/** `build(plan, addressing)`: regions → clusters → servers, leaf sites, region links. Pure. */
import { FIRST_DOMAIN } from "../sizing/policy";
import type { SizingPlan } from "../sizing/types";
import {
  endpointsOf,
  type Addressing,
  type Ports,
  type Topology,
  type TopologyCluster,
  type TopologyLeafSite,
  type TopologyServer,
} from "./types";
import { validate } from "./validate";

/** The one cluster's name below the supercluster tier, kept by a supercluster's first region. */
export const CLUSTER_NAME = FIRST_DOMAIN;

/** NATS's conventional ports (guide §10), for targets that give each server its own host. */
export const STANDARD_PORTS: Required<Ports> = { client: 4222, cluster: 6222, leafnode: 7422, monitor: 8222 };

/** Every server on its own host named after it in `domain` (e.g. `core-0.zester.internal`). */
export function standardAddressing(domain: string): Addressing {
  return {
    host: (s) => `${s.name}.${domain}`,
    port: (_s, kind) => STANDARD_PORTS[kind],
  };
}

function portsOf(
  addressing: Addressing,
  id: Pick<TopologyServer, "name" | "role" | "region">,
  extra: ("cluster" | "leafnode")[],
): Ports {
  const ports: Ports = { client: addressing.port(id, "client"), monitor: addressing.port(id, "monitor") };
  for (const kind of extra) ports[kind] = addressing.port(id, kind);
  return ports;
}

export function build(plan: SizingPlan, addressing: Addressing): Topology {
  const supercluster = plan.topology === "supercluster";
  const hubRegion = plan.regions[0]?.name ?? "";
  // The first region keeps the names it had as the only one (servers, cluster, domain), so
  // growing into a supercluster adds regions next to it instead of renaming, and so replacing, it.
  const added = (region: string): boolean => supercluster && region !== hubRegion;
  const prefix = (region: string): string => (added(region) ? `${region}-` : "");
  const clusters: TopologyCluster[] = [];
  const leafSites: TopologyLeafSite[] = [];
  const servers: TopologyServer[] = [];

  for (const region of plan.regions) {
    const clusterName = added(region.name) ? region.name : CLUSTER_NAME;
    const hasLeafs =
      plan.leafSites.some((s) => s.region === region.name) || (supercluster && region.name === hubRegion);
    const names = Array.from({ length: region.servers }, (_, i) => `${prefix(region.name)}core-${i}`);
    clusters.push({ name: clusterName, region: region.name, servers: names });
    for (const name of names) {
      const id = { name, role: "core" as const, region: region.name };
      const extra: ("cluster" | "leafnode")[] = [];
      if (region.servers > 1) extra.push("cluster");
      if (hasLeafs) extra.push("leafnode");
      const host = addressing.host(id);
      const ports = portsOf(addressing, id, extra);
      servers.push({
        ...id,
        cluster: clusterName,
        host,
        ports,
        endpoints: endpointsOf(host, ports),
        jetstream: true,
        // Always a domain: clients behind leaf nodes reach JetStream only through
        // `$JS.<domain>.API` (a leaf without JetStream gets no `$JS.API` responders), and a
        // domain set from the first day never changes when leaf sites are added.
        domain: region.jetstreamDomain ?? CLUSTER_NAME,
      });
    }
  }

  for (const site of plan.leafSites) {
    const names = Array.from({ length: site.servers }, (_, i) => `${prefix(site.region)}leaf-${site.name}-${i}`);
    const hub = clusters.find((c) => c.region === site.region)?.name ?? "";
    leafSites.push({ name: site.name, region: site.region, hub, servers: names, peels: site.peels });
    for (const name of names) {
      const id = { name, role: "leaf" as const, region: site.region };
      const host = addressing.host(id);
      const ports = portsOf(addressing, id, []);
      servers.push({
        ...id,
        site: site.name,
        host,
        ports,
        endpoints: endpointsOf(host, ports),
        jetstream: false,
      });
    }
  }

  const topology: Topology = {
    tier: plan.tier,
    clusters,
    leafSites,
    servers,
    regionLinks: supercluster ? plan.regions.slice(1).map((r) => ({ region: r.name, hub: hubRegion })) : [],
    plan,
  };
  validate(topology);
  return topology;
}
