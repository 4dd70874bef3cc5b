/** Where simulated peels connect: the homes the local target gives its peels, in its order. */
import { peelHomes } from "../local/runner";
import { clientUrl, type Topology } from "../topology/types";
import type { PeelAddress } from "./peel";

/**
 * A peel of a leaf site lists the site's leaf servers, then its region's core (the same order
 * as its rendered config); a peel of a region without leaf sites lists the core. Its domain is
 * its region's.
 */
export function peelAddress(t: Topology, home: { region: string; site?: string }): PeelAddress {
  const core = t.servers.filter((s) => s.role === "core" && s.region === home.region);
  const site =
    home.site === undefined
      ? []
      : t.servers.filter((s) => s.role === "leaf" && s.region === home.region && s.site === home.site);
  const domain = core[0]?.domain;
  return {
    region: home.region,
    ...(home.site === undefined ? {} : { site: home.site }),
    servers: [...site, ...core].map(clientUrl),
    ...(domain === undefined ? {} : { domain }),
  };
}

/** Every home of the topology's peels. */
export function peelAddresses(t: Topology): PeelAddress[] {
  return peelHomes(t).map((home) => peelAddress(t, home));
}

/** Simulated peels are named `sim-000001`, … so they never collide with a real peel's key. */
export const peelId = (i: number): string => `sim-${String(i).padStart(6, "0")}`;

/** The core servers of a region (what the master and the read-back connect to). */
export function coreUrls(t: Topology, region: string): string[] {
  return t.servers.filter((s) => s.role === "core" && s.region === region).map(clientUrl);
}
