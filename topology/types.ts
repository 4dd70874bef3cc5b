/** What runs where: the plain data every renderer and target reads. */
import type { SizingPlan, TierId } from "../sizing/types";

export interface Ports {
  client: number;
  monitor: number;
  /** Cluster routes; absent on a single server and on leaf servers. */
  cluster?: number;
  /** Where leaf connections come in: leaf sites, and other regions on the hub region. */
  leafnode?: number;
}

export interface TopologyServer {
  /** Stable, ordinal, unique across the whole topology: `core-0`, `leaf-dmz-1`, `eu-core-2`. */
  name: string;
  role: "core" | "leaf";
  region: string;
  /** Core servers: the cluster they belong to (also its gateway name). */
  cluster?: string;
  /** Leaf servers: their site. */
  site?: string;
  host: string;
  ports: Ports;
  /** Core servers run JetStream; leaf servers extend their hub's. */
  jetstream: boolean;
  /** Core servers: their cluster's JetStream domain (`zester`, or the region's name). */
  domain?: string;
}

export interface TopologyCluster {
  name: string;
  region: string;
  servers: string[];
}

export interface TopologyLeafSite {
  name: string;
  region: string;
  /** The cluster whose servers the site's leaf servers connect to. */
  hub: string;
  servers: string[];
  peels: number;
}

export interface Topology {
  tier: TierId;
  clusters: TopologyCluster[];
  leafSites: TopologyLeafSite[];
  servers: TopologyServer[];
  /**
   * Supercluster only: each region's core solicits a leaf connection, in the app account, to
   * the hub region's core. Not gateways: gateways join every cluster into one JetStream meta
   * group, so no region could work alone (see docs/topology.md for the evidence).
   */
  regionLinks: { region: string; hub: string }[];
  /** The plan this topology was built from. */
  plan: SizingPlan;
}

/** Where a server listens. Cloud targets give every server its own host and NATS's ports. */
export interface Addressing {
  host(server: Pick<TopologyServer, "name" | "role" | "region">): string;
  port(server: Pick<TopologyServer, "name" | "role" | "region">, kind: keyof Ports): number;
}

/** A server's client URL (what masters, peels and tools connect to) and monitoring base URL. */
export const clientUrl = (s: Pick<TopologyServer, "host" | "ports">): string =>
  `nats://${s.host}:${String(s.ports.client)}`;
export const monitorUrl = (s: Pick<TopologyServer, "host" | "ports">): string =>
  `http://${s.host}:${String(s.ports.monitor)}`;
