/** `plan(spec)`: for N peels, what must run. Pure: no Pulumi, no I/O. */
import { bandwidth } from "./bandwidth";
import { checkBelowPlan } from "./below-plan";
import { fmt } from "./format";
import { checklistFor } from "./checklist";
import { clientTuning } from "./client";
import { TIERS, type TierRow } from "./guide";
import { kvPlan } from "./kv";
import { checkLimitNofile, limitNofileWhy, sysctlFor, tierLimitNofile } from "./os";
import { coreServer, leafExpectedPeels, leafNodeSize, maxConnectionsFor, serverTuning } from "./server";
import { parseSizingSpec, type SizingSpec, type SizingSpecInput } from "./spec";
import { planReplication } from "./replication";
import { planLeafSites, planRegions } from "./split";
import type { BelowPlan, LeafNodePlan, SizingPlan } from "./types";

/** The tier row for a peel count: the last row whose lower edge it reaches. */
export function tierFor(peels: number): TierRow {
  let found: TierRow | undefined;
  for (const row of TIERS) if (peels >= row.minPeels) found = row;
  if (found === undefined) throw new RangeError(`no tier for ${peels} peels`);
  return found;
}

/** Validates `input` (throws SpecError naming the field) and plans it. */
export function plan(input: SizingSpecInput): SizingPlan {
  return planSpec(parseSizingSpec(input));
}

/** Plans a spec already validated (parseSizingSpec: the defaults applied, nothing unknown). */
export function planSpec(spec: SizingSpec): SizingPlan {
  const { peels, overrides } = spec;
  const applied: string[] = [];
  const below: BelowPlan[] = [];
  const tier = tierFor(peels);

  const { regions, sites } = planLeafSites(tier, planRegions(peels, tier, spec.regions), spec.leafSites);
  const core = coreServer(tier, overrides, applied);
  const natsServer = serverTuning(tier, peels, regions, core, overrides, applied, below);

  const limitNofile = overrides.os?.limitNofile ?? tierLimitNofile(tier, natsServer.maxConnections);
  if (overrides.os?.limitNofile !== undefined) applied.push("overrides.os.limitNofile");
  checkLimitNofile(limitNofile, natsServer.maxConnections, ["overrides", "os", "limitNofile"]);

  let leafNode: LeafNodePlan | undefined;
  if (sites.length > 0) {
    const expected = leafExpectedPeels(sites);
    const maxConnections = maxConnectionsFor(expected);
    leafNode = {
      server: leafNodeSize(),
      maxConnections,
      expectedPeelsPerServer: expected,
      limitNofile: tierLimitNofile(tier, maxConnections),
      provenance: {
        server: {
          source: "derived",
          why: "the cluster-5 row's CPU, RAM and network (10,000 peels per server at its top), no JetStream",
        },
        maxConnections: {
          source: "guide",
          why: `2 × ${fmt(expected)} peels of the busiest site; any of its leaf servers may get them all`,
        },
        limitNofile: limitNofileWhy(tier, maxConnections, peels),
      },
    };
  }

  const os = sysctlFor(peels, Math.max(limitNofile, leafNode?.limitNofile ?? 0));
  const { kv, storageBudget } = kvPlan(tier.serversPerCluster, natsServer.jetstream, overrides, applied, below);
  checkBelowPlan(below, overrides);
  const regionsWithCopies = planReplication(regions, spec.regions, kv, storageBudget);
  return {
    tier: tier.id,
    peels,
    topology: tier.topology,
    guideRow: tier.guideRow,
    serversPerCluster: tier.serversPerCluster,
    totalServers: regions.reduce((n, r) => n + r.servers, 0) + sites.reduce((n, s) => n + s.servers, 0),
    server: core,
    natsServer,
    client: clientTuning(peels, overrides, applied, tier.serversPerCluster === 1),
    os: {
      sysctl: os.sysctl,
      limitNofile,
      provenance: {
        ...os.provenance,
        limitNofile:
          overrides.os?.limitNofile !== undefined
            ? { source: "override", why: "set by overrides.os.limitNofile" }
            : limitNofileWhy(tier, natsServer.maxConnections, peels),
      },
    },
    kv,
    storageBudget,
    bandwidth: bandwidth(peels, spec.factIntervalSeconds),
    regions: regionsWithCopies,
    leafSites: sites,
    ...(leafNode === undefined ? {} : { leafNode }),
    checklist: checklistFor(tier.id),
    overrides: applied,
    ...(below.length === 0 ? {} : { belowPlan: below }),
  };
}
