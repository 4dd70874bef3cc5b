/** Open-file limits and kernel settings. */
import { fmt } from "./format";
import { LIMIT_NOFILE, SYSCTL, THRESHOLDS } from "./guide";
import { NOFILE_CONNECTION_HEADROOM, NOFILE_FIXED_RESERVE } from "./policy";
import { SpecError } from "./spec";
import type { Provenance } from "./types";

/** Never below the guide's 65,536, and always above `max_connections` with headroom. */
export function limitNofileFor(maxConnections: number): number {
  const wanted = maxConnections * (1 + NOFILE_CONNECTION_HEADROOM) + NOFILE_FIXED_RESERVE;
  return Math.max(LIMIT_NOFILE, Math.ceil(wanted / 1024) * 1024);
}

export function limitNofileWhy(maxConnections: number, peels: number): Provenance {
  const nofile = limitNofileFor(maxConnections);
  if (nofile > LIMIT_NOFILE) {
    return {
      source: "derived",
      why: `the guide's ${fmt(LIMIT_NOFILE)} is not enough for max_connections ${fmt(maxConnections)}: sized to it + ${NOFILE_CONNECTION_HEADROOM * 100}% + ${fmt(NOFILE_FIXED_RESERVE)}`,
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
