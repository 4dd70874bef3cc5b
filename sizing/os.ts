/** Open-file limits and kernel settings. */
import { fmt } from "./format";
import { LIMIT_NOFILE, SYSCTL, THRESHOLDS, TIERS, type TierRow } from "./guide";
import { MAX_PEELS_PER_REGION, NOFILE_CONNECTION_HEADROOM, NOFILE_FIXED_RESERVE } from "./policy";
import { maxConnectionsFor } from "./server";
import { SpecError } from "./spec";
import type { Provenance } from "./types";

/** Never below the guide's 65,536, and always above `max_connections` with headroom. */
export function limitNofileFor(maxConnections: number): number {
  const wanted = maxConnections * (1 + NOFILE_CONNECTION_HEADROOM) + NOFILE_FIXED_RESERVE;
  return Math.max(LIMIT_NOFILE, Math.ceil(wanted / 1024) * 1024);
}

/**
 * The most peels one server of the tier may have to hold: the tier's top edge, or a region's
 * most (the leaf and supercluster tiers). LimitNOFILE is sized for it, not for today's count:
 * it is read only when nats-server starts, so a peel-count change inside the tier (which reloads
 * `max_connections`) never needs a restart.
 */
export function tierCeilingPeels(tier: TierRow): number {
  const next = TIERS[TIERS.indexOf(tier) + 1];
  return next === undefined || (tier.topology !== "single" && tier.topology !== "cluster")
    ? MAX_PEELS_PER_REGION
    : next.minPeels - 1;
}

/** LimitNOFILE for a server whose `max_connections` is `maxConnections` today, in `tier`. */
export function tierLimitNofile(tier: TierRow, maxConnections: number): number {
  return limitNofileFor(Math.max(maxConnections, maxConnectionsFor(tierCeilingPeels(tier))));
}

export function limitNofileWhy(tier: TierRow, maxConnections: number, peels: number): Provenance {
  const ceiling = tierCeilingPeels(tier);
  const sizedFor = Math.max(maxConnections, maxConnectionsFor(ceiling));
  const nofile = limitNofileFor(sizedFor);
  if (nofile > LIMIT_NOFILE) {
    const basis =
      sizedFor > maxConnections
        ? `max_connections at the tier's top (${fmt(ceiling)} peels: ${fmt(sizedFor)}), so a peel-count change inside the tier needs no restart`
        : `max_connections ${fmt(maxConnections)}`;
    return {
      source: "derived",
      why: `the guide's ${fmt(LIMIT_NOFILE)} is not enough for ${basis}: sized to it + ${NOFILE_CONNECTION_HEADROOM * 100}% + ${fmt(NOFILE_FIXED_RESERVE)}`,
    };
  }
  return peels >= THRESHOLDS.limitNofile
    ? { source: "guide", why: "§9 at 1,000+: LimitNOFILE=65536" }
    : {
        source: "derived",
        why: "the guide's 65,536 (from 1,000 peels) set below it too, so the unit never depends on the distribution's default",
      };
}

/** Checks an operator's LimitNOFILE against the connections it must carry. */
export function checkLimitNofile(limitNofile: number, maxConnections: number, path: (string | number)[]): void {
  if (limitNofile <= maxConnections) {
    throw new SpecError([
      {
        path,
        message: `${fmt(limitNofile)} is not above max_connections (${fmt(maxConnections)}); a server that runs out of files cannot open JetStream's either. Use at least ${fmt(limitNofileFor(maxConnections))}`,
      },
    ]);
  }
}

/** The guide's §8 set from 10,000 peels; `fs.file-max` raised when a unit needs more files. */
export function sysctlFor(
  peels: number,
  largestNofile: number,
): { sysctl: Record<string, string>; provenance: Record<string, Provenance> } {
  if (peels < THRESHOLDS.serverTuning) return { sysctl: {}, provenance: {} };
  const sysctl = { ...SYSCTL };
  const provenance: Record<string, Provenance> = {};
  for (const key of Object.keys(sysctl))
    provenance[key] = { source: "guide", why: "§8, masters with 10,000+ connections" };
  const fileMax = Number(sysctl["fs.file-max"]);
  if (largestNofile * 2 > fileMax) {
    sysctl["fs.file-max"] = String(largestNofile * 2);
    provenance["fs.file-max"] = {
      source: "derived",
      why: `raised to twice the largest LimitNOFILE (${fmt(largestNofile)})`,
    };
  }
  return { sysctl, provenance };
}
