import fc from "fast-check";
import { plan, type SizingPlan } from "../../sizing";
import { BUCKETS, TIERS } from "../../sizing/guide";
import { MAX_PEELS } from "../../sizing/policy";

const peels = fc.integer({ min: 0, max: MAX_PEELS });
const RESOURCES = [
  "cpuSteadyCores",
  "cpuBurstCores",
  "memoryMiB",
  "jetstreamDiskGiB",
  "diskIops",
  "networkMbps",
] as const;

/** Every path in a JSON value whose leaf is not a finite number, string, boolean or null. */
function badLeaves(value: unknown, at = "$"): string[] {
  if (value === undefined) return [at];
  if (typeof value === "number") return Number.isFinite(value) ? [] : [at];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => badLeaves(v, `${at}.${k}`));
}

describe("plan() over random peel counts", () => {
  test("servers and per-server resources never decrease as peels grow", () => {
    fc.assert(
      fc.property(peels, peels, (a, b) => {
        const [lo, hi] = [plan({ peels: Math.min(a, b) }), plan({ peels: Math.max(a, b) })];
        expect(hi.serversPerCluster).toBeGreaterThanOrEqual(lo.serversPerCluster);
        expect(hi.totalServers).toBeGreaterThanOrEqual(lo.totalServers);
        for (const r of RESOURCES) expect(hi.server[r]).toBeGreaterThanOrEqual(lo.server[r]);
      }),
      { numRuns: 300 },
    );
  });

  test("two peel counts of one tier need no restart between them: LimitNOFILE and sysctl are equal", () => {
    // Two counts inside one tier, for every tier alike (uniform counts would mostly be superclusters).
    const sameTier = fc.integer({ min: 0, max: TIERS.length - 1 }).chain((i) => {
      const min = TIERS[i]?.minPeels ?? 0;
      const max = (TIERS[i + 1]?.minPeels ?? MAX_PEELS + 1) - 1;
      return fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));
    });
    fc.assert(
      fc.property(sameTier, ([a, b]) => {
        const [x, y] = [plan({ peels: a }), plan({ peels: b })];
        expect(y.tier).toBe(x.tier);
        expect(y.os.limitNofile).toBe(x.os.limitNofile);
        expect(y.os.sysctl).toEqual(x.os.sysctl);
        expect(y.leafNode?.limitNofile).toBe(x.leafNode?.limitNofile);
      }),
      { numRuns: 300 },
    );
  });

  test("replicas never exceed one cluster's servers, and are 1 on single tiers", () => {
    fc.assert(
      fc.property(peels, (n) => {
        const p = plan({ peels: n });
        for (const b of p.kv) {
          expect(b.replicas).toBeLessThanOrEqual(p.serversPerCluster);
          if (p.serversPerCluster === 1) expect(b.replicas).toBe(1);
        }
      }),
    );
  });

  test("LimitNOFILE is always above max_connections, on core and leaf servers", () => {
    const check = (p: SizingPlan) => {
      expect(p.os.limitNofile).toBeGreaterThan(p.natsServer.maxConnections);
      if (p.leafNode !== undefined) expect(p.leafNode.limitNofile).toBeGreaterThan(p.leafNode.maxConnections);
      const fileMax = p.os.sysctl["fs.file-max"];
      if (fileMax !== undefined)
        expect(Number(fileMax)).toBeGreaterThanOrEqual(Math.max(p.os.limitNofile, p.leafNode?.limitNofile ?? 0));
    };
    fc.assert(
      fc.property(peels, (n) => {
        check(plan({ peels: n }));
      }),
    );
  });

  test("no NaN, Infinity or undefined anywhere in the JSON", () => {
    fc.assert(
      fc.property(peels, fc.integer({ min: 1, max: 86_400 }), (n, interval) => {
        const p = plan({ peels: n, factIntervalSeconds: interval });
        expect(badLeaves(p)).toEqual([]);
        expect(JSON.parse(JSON.stringify(p))).toEqual(p);
      }),
    );
  });

  test("each guide bucket is planned exactly once", () => {
    fc.assert(
      fc.property(peels, (n) => {
        const names = plan({ peels: n })
          .kv.map((b) => b.name)
          .sort();
        expect(names).toEqual(BUCKETS.map((b) => b.name).sort());
      }),
    );
  });

  test("every peel is placed: regions add up to the fleet, leaf sites and direct peels to their region", () => {
    fc.assert(
      fc.property(peels, (n) => {
        const p = plan({ peels: n });
        expect(p.regions.reduce((s, r) => s + r.peels, 0)).toBe(n);
        for (const r of p.regions) {
          const onSites = p.leafSites.filter((s) => s.region === r.name).reduce((s, site) => s + site.peels, 0);
          expect(onSites + r.directPeels).toBe(r.peels);
        }
      }),
    );
  });
});
