import { plan, tierFor, TIERS } from "../../sizing";

describe("tier boundaries (half-open, guide §1)", () => {
  test.each([
    [0, "single-small", 1],
    [99, "single-small", 1],
    [100, "single", 1],
    [999, "single", 1],
    [1_000, "cluster-3", 3],
    [9_999, "cluster-3", 3],
    [10_000, "cluster-5", 5],
    [49_999, "cluster-5", 5],
    [50_000, "leaf", 5],
    [99_999, "leaf", 5],
    [100_000, "supercluster", 5],
    [1_000_000, "supercluster", 5],
  ])("%i peels plan the %s tier with %i servers per cluster", (peels, tier, servers) => {
    const p = plan({ peels });
    expect(p.tier).toBe(tier);
    expect(p.serversPerCluster).toBe(servers);
    expect(tierFor(peels).id).toBe(tier);
  });

  test("0 peels (a fleet not yet enrolled) is the single-small tier", () => {
    expect(plan({ peels: 0 }).tier).toBe("single-small");
  });

  test("1,000 peels is the first 3-node tier", () => {
    expect(tierFor(999).serversPerCluster).toBe(1);
    expect(tierFor(1_000).serversPerCluster).toBe(3);
  });

  test("every tier row names the guide row it came from, and rows ascend", () => {
    TIERS.forEach((row, i) => {
      expect(row.guideRow).toMatch(/^§1 row \d/);
      if (i > 0) expect(row.minPeels).toBeGreaterThan(TIERS[i - 1]?.minPeels ?? Infinity);
    });
  });

  test("storage is SSD below 10,000 peels and NVMe from 10,000 on", () => {
    expect(plan({ peels: 9_999 }).server.storage).toBe("ssd");
    expect(plan({ peels: 10_000 }).server.storage).toBe("nvme");
    expect(plan({ peels: 150_000 }).server.storage).toBe("nvme");
  });

  test("the checklist is cumulative: each tier keeps every item of the tiers below", () => {
    const ids = (peels: number) => plan({ peels }).checklist.map((i) => i.id);
    expect(ids(999)).toEqual([]);
    expect(ids(1_000)).toContain("limit-nofile");
    expect(ids(10_000)).toEqual(expect.arrayContaining(ids(1_000)));
    expect(ids(10_000)).toContain("nvme");
    expect(ids(50_000)).toEqual(expect.arrayContaining([...ids(10_000), "leaf-nodes"]));
    expect(ids(100_000)).toEqual(expect.arrayContaining([...ids(50_000), "domain-per-region"]));
  });
});
