/**
 * How peels are split over supercluster regions and leaf sites, declared or implied.
 *
 * The rule, for regions over the fleet and for leaf sites over their region alike:
 * - an entry that names its peels gets them;
 * - the peels no entry claims are shared evenly by the entries that name none (the first ones
 *   take one more when the division leaves a remainder), so no peel is lost;
 * - when every entry names its peels, what is left over connects straight to the core cluster
 *   (leaf sites) or is an error (regions must account for the whole fleet);
 * - claims above the total are an error.
 * Implied, when none are declared: regions = max(2, ⌈peels / 99,999⌉), even shares; one leaf site
 * `edge` holding all peels of every region that is at or above the leaf tier's edge (50,000).
 * Leaf servers per site: max(2, ⌈site peels / 10,000⌉), unless the site names its own count.
 */
import { TIERS, type TierRow } from "./guide";
import {
  IMPLIED_LEAF_SITE,
  LEAF_SITES_FROM_TIER,
  MAX_PEELS_PER_REGION,
  MIN_LEAF_SERVERS_PER_SITE,
  FIRST_DOMAIN,
  MIN_REGIONS,
  PEELS_PER_LEAF_SERVER,
  SINGLE_REGION,
} from "./policy";
import { SpecError, type LeafSiteSpec, type Problem, type RegionSpec } from "./spec";
import type { LeafSitePlan, RegionPlan, TierId } from "./types";

import { fmt } from "./format";

export function tierIndex(id: TierId): number {
  return TIERS.findIndex((t) => t.id === id);
}

/** `total` in `n` shares that differ by at most one, larger first. */
export function evenShares(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  const extra = total - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

interface Split {
  shares: number[];
  unclaimed: number;
}

function splitClaims(total: number, claims: (number | undefined)[], claimPath: (i: number) => Problem["path"]): Split {
  const claimed = claims.reduce<number>((sum, c) => sum + (c ?? 0), 0);
  if (claimed > total) {
    const i = claims.findIndex((c) => c !== undefined);
    throw new SpecError([
      {
        path: claimPath(Math.max(i, 0)),
        message: `the declared peels add up to ${fmt(claimed)}, more than the ${fmt(total)} to split; lower them or raise the total`,
      },
    ]);
  }
  const open = claims.filter((c) => c === undefined).length;
  if (open === 0) return { shares: claims.map((c) => c ?? 0), unclaimed: total - claimed };
  const rest = evenShares(total - claimed, open);
  let next = 0;
  return { shares: claims.map((c) => c ?? rest[next++] ?? 0), unclaimed: 0 };
}

function rejectDuplicates(names: string[], field: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) {
      throw new SpecError([{ path: [field, i, "name"], message: `"${name}" is declared twice; names must be unique` }]);
    }
    seen.add(name);
  });
}

export function planRegions(peels: number, tier: TierRow, declared: RegionSpec[]): RegionPlan[] {
  if (tier.topology !== "supercluster") {
    if (declared.length > 0) {
      throw new SpecError([
        {
          path: ["regions"],
          message: `regions are for the supercluster tier (${fmt(TIERS[TIERS.length - 1]?.minPeels ?? 0)}+ peels); ${fmt(peels)} peels plan the ${tier.id} tier, which runs in one region. Remove the regions or raise the peels`,
        },
      ]);
    }
    return [{ name: SINGLE_REGION, peels, directPeels: peels, servers: tier.serversPerCluster, declared: false }];
  }
  if (declared.length === 1) {
    throw new SpecError([
      { path: ["regions"], message: `a supercluster needs at least ${MIN_REGIONS} regions; 1 is declared` },
    ]);
  }
  rejectDuplicates(
    declared.map((r) => r.name),
    "regions",
  );
  declared.forEach((r, i) => {
    if (i > 0 && r.name === FIRST_DOMAIN)
      throw new SpecError([
        {
          path: ["regions", i, "name"],
          message: `"${FIRST_DOMAIN}" is the JetStream domain and cluster name the first region keeps; name this region otherwise`,
        },
      ]);
  });
  const regions =
    declared.length > 0
      ? declared
      : Array.from({ length: Math.max(MIN_REGIONS, Math.ceil(peels / MAX_PEELS_PER_REGION)) }, (_, i) => ({
          name: `region-${i}`,
          peels: undefined,
        }));
  const { shares, unclaimed } = splitClaims(
    peels,
    regions.map((r) => r.peels),
    (i) => ["regions", i, "peels"],
  );
  if (unclaimed > 0) {
    throw new SpecError([
      {
        path: ["regions"],
        message: `the regions declare ${fmt(peels - unclaimed)} peels, ${fmt(unclaimed)} fewer than the ${fmt(peels)} to place; give the rest to a region or leave one region's peels out so it takes them`,
      },
    ]);
  }
  return regions.map((r, i) => {
    const regionPeels = shares[i] ?? 0;
    if (regionPeels > MAX_PEELS_PER_REGION) {
      throw new SpecError([
        {
          path: declared.length > 0 ? ["regions", i, "peels"] : ["peels"],
          message: `region "${r.name}" would carry ${fmt(regionPeels)} peels; a region carries at most ${fmt(MAX_PEELS_PER_REGION)} (the leaf tier's top). Add a region`,
        },
      ]);
    }
    return {
      name: r.name,
      peels: regionPeels,
      directPeels: regionPeels,
      servers: tier.serversPerCluster,
      declared: declared.length > 0,
      // The first region keeps the domain the tiers below run in (policy.ts FIRST_DOMAIN).
      jetstreamDomain: i === 0 ? FIRST_DOMAIN : r.name,
    };
  });
}

function leafServers(peels: number): number {
  return Math.max(MIN_LEAF_SERVERS_PER_SITE, Math.ceil(peels / PEELS_PER_LEAF_SERVER));
}

/** Returns the sites, and the regions with `directPeels` lowered by what their sites hold. */
export function planLeafSites(
  tier: TierRow,
  regions: RegionPlan[],
  declared: LeafSiteSpec[],
): { regions: RegionPlan[]; sites: LeafSitePlan[] } {
  const leafEdge = TIERS.find((t) => t.topology === "cluster+leaf")?.minPeels ?? Infinity;
  if (declared.length > 0 && tierIndex(tier.id) < tierIndex(LEAF_SITES_FROM_TIER)) {
    throw new SpecError([
      {
        path: ["leafSites"],
        message: `leaf sites start at the ${LEAF_SITES_FROM_TIER} tier (the guide considers them from 10,000 peels); this plan is the ${tier.id} tier. Remove the leaf sites or raise the peels`,
      },
    ]);
  }
  rejectDuplicates(
    declared.map((s) => s.name),
    "leafSites",
  );
  const regionNames = regions.map((r) => r.name);
  declared.forEach((site, i) => {
    if (site.region !== undefined && !regionNames.includes(site.region)) {
      throw new SpecError([
        {
          path: ["leafSites", i, "region"],
          message: `"${site.region}" is not a region of this plan; the regions are: ${regionNames.join(", ")}`,
        },
      ]);
    }
  });

  const sites: LeafSitePlan[] = [];
  const outRegions = regions.map((region) => {
    const mine = declared
      .map((site, index) => ({ site, index }))
      .filter(({ site }) => (site.region ?? regionNames[0]) === region.name);
    if (mine.length === 0) {
      if (declared.length > 0 || region.peels < leafEdge) return region;
      sites.push({
        name: IMPLIED_LEAF_SITE,
        region: region.name,
        peels: region.peels,
        servers: leafServers(region.peels),
        declared: false,
      });
      return { ...region, directPeels: 0 };
    }
    const { shares, unclaimed } = splitClaims(
      region.peels,
      mine.map(({ site }) => site.peels),
      (i) => ["leafSites", mine[i]?.index ?? 0, "peels"],
    );
    mine.forEach(({ site }, i) => {
      const peels = shares[i] ?? 0;
      sites.push({
        name: site.name,
        region: region.name,
        peels,
        servers: site.servers ?? leafServers(peels),
        declared: true,
      });
    });
    return { ...region, directPeels: unclaimed };
  });
  return { regions: outRegions, sites };
}
