/** What runs where: the plain data every renderer and target reads. */
import { z } from "zod";
import type { SizingPlan, TierId } from "../sizing/types";

/** A core server runs JetStream in its cluster; a leaf server extends it to a site. Crosses runs and processes (deployment record, state file, status): read back with this schema. */
export const RoleSchema = z.enum(["core", "leaf"]);
export type Role = z.infer<typeof RoleSchema>;

/** Zester's two programs, each with a config of its own (state file: the processes the local target started). */
export const ZesterKindSchema = z.enum(["master", "peel"]);
export type ZesterKind = z.infer<typeof ZesterKindSchema>;

export interface Ports {
  client: number;
  monitor: number;
  /** Cluster routes; absent on a single server and on leaf servers. */
  cluster?: number;
  /** Where leaf connections come in: leaf sites, and other regions on the hub region. */
  leafnode?: number;
}

/** How a server is reached, by listener: computed once, from its host and ports, when the topology is built. */
export interface Endpoints {
  /** Masters, peels and tools: `nats://host:port`. */
  client: string;
  /** The monitoring base URL: `http://host:port`. */
  monitor: string;
  /** The other members' routes (cluster members only): `nats-route://host:port`. */
  route?: string;
  /** Leaf connections in (leaf sites, other regions; hubs only): `nats-leaf://host:port`. */
  leaf?: string;
}

export interface TopologyServer {
  /** Stable, ordinal, unique across the whole topology: `core-0`, `leaf-dmz-1`, `eu-core-2`. */
  name: string;
  role: Role;
  region: string;
  /** Core servers: the cluster they belong to (also its gateway name). */
  cluster?: string;
  /** Leaf servers: their site. */
  site?: string;
  host: string;
  ports: Ports;
  endpoints: Endpoints;
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

/** A server's endpoints, from where it listens. */
export function endpointsOf(host: string, ports: Ports): Endpoints {
  const url = (scheme: string, port: number): string => `${scheme}://${host}:${String(port)}`;
  return {
    client: url("nats", ports.client),
    monitor: url("http", ports.monitor),
    ...(ports.cluster === undefined ? {} : { route: url("nats-route", ports.cluster) }),
    ...(ports.leafnode === undefined ? {} : { leaf: url("nats-leaf", ports.leafnode) }),
  };
}

/** A server's client URL (what masters, peels and tools connect to) and monitoring base URL. */
export const clientUrl = (s: Pick<TopologyServer, "endpoints">): string => s.endpoints.client;
export const monitorUrl = (s: Pick<TopologyServer, "endpoints">): string => s.endpoints.monitor;
