import { plan, SpecError } from "../../sizing";
import { evenShares } from "../../sizing/split";

function problemOf(fn: () => unknown): { path: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecError) {
      const p = error.problems[0];
      return { path: p?.path.join(".") ?? "", message: p?.message ?? "" };
    }
    throw error;
  }
  throw new Error("expected a SpecError");
}

describe("regions", () => {
  test("a supercluster with none declared gets max(2, ⌈peels / 99,999⌉) even regions, each its own JetStream domain (the first keeps the tiers' below)", () => {
    const p = plan({ peels: 250_000 });
    expect(p.regions.map((r) => r.name)).toEqual(["region-0", "region-1", "region-2"]);
    expect(p.regions.map((r) => r.peels)).toEqual([83_334, 83_333, 83_333]);
    expect(p.regions.map((r) => r.jetstreamDomain)).toEqual(["zester", "region-1", "region-2"]);
    expect(plan({ peels: 100_000 }).regions).toHaveLength(2);
  });

  test("declared regions take the peels they name; the rest share what is left", () => {
    const p = plan({ peels: 150_000, regions: [{ name: "eu", peels: 90_000 }, { name: "us" }, { name: "ap" }] });
    expect(p.regions.map((r) => [r.name, r.peels])).toEqual([
      ["eu", 90_000],
      ["us", 30_000],
      ["ap", 30_000],
    ]);
  });

  test("regions below the supercluster tier are refused, naming the field", () => {
    const p = problemOf(() => plan({ peels: 20_000, regions: [{ name: "eu" }, { name: "us" }] }));
    expect(p.path).toBe("regions");
    expect(p.message).toMatch(/supercluster/);
  });

  test("regions that leave peels unplaced, or carry more than a region can, are refused", () => {
    expect(
      problemOf(() =>
        plan({
          peels: 150_000,
          regions: [
            { name: "eu", peels: 50_000 },
            { name: "us", peels: 50_000 },
          ],
        }),
      ).message,
    ).toMatch(/50,000 fewer/);
    expect(problemOf(() => plan({ peels: 250_000, regions: [{ name: "eu" }, { name: "us" }] })).message).toMatch(
      /at most 99,999/,
    );
    expect(problemOf(() => plan({ peels: 150_000, regions: [{ name: "eu" }] })).message).toMatch(/at least 2/);
    expect(problemOf(() => plan({ peels: 150_000, regions: [{ name: "eu" }, { name: "zester" }] }))).toMatchObject({
      path: "regions.1.name",
      message: expect.stringMatching(/the JetStream domain and cluster name the first region keeps/) as unknown,
    });
    expect(problemOf(() => plan({ peels: 150_000, regions: [{ name: "eu" }, { name: "eu" }] })).path).toBe(
      "regions.1.name",
    );
  });
});

describe("leaf sites", () => {
  test("the leaf tier implies one 'edge' site holding every peel, one leaf server per 10,000 (at least 2)", () => {
    const p = plan({ peels: 60_000 });
    expect(p.leafSites).toEqual([{ name: "edge", region: "main", peels: 60_000, servers: 6, declared: false }]);
    expect(p.regions[0]?.directPeels).toBe(0);
    expect(p.totalServers).toBe(11);
  });

  test("two declared sites without counts split the peels evenly (the prod example)", () => {
    const p = plan({ peels: 60_000, leafSites: [{ name: "dmz" }, { name: "branch-offices" }] });
    expect(p.leafSites.map((s) => [s.name, s.peels, s.servers])).toEqual([
      ["dmz", 30_000, 3],
      ["branch-offices", 30_000, 3],
    ]);
  });

  test("when every site names its peels, the rest connect straight to the core", () => {
    const p = plan({ peels: 20_000, leafSites: [{ name: "dmz", peels: 5_000, servers: 1 }] });
    expect(p.leafSites[0]).toMatchObject({ peels: 5_000, servers: 1 });
    expect(p.regions[0]?.directPeels).toBe(15_000);
  });

  test("leaf sites below 10,000 peels, unknown regions and over-claims are refused", () => {
    expect(problemOf(() => plan({ peels: 5_000, leafSites: [{ name: "dmz" }] })).path).toBe("leafSites");
    const unknownRegion = problemOf(() => plan({ peels: 150_000, leafSites: [{ name: "dmz", region: "mars" }] }));
    expect(unknownRegion.path).toBe("leafSites.0.region");
    expect(unknownRegion.message).toContain("region-0");
    expect(
      problemOf(() =>
        plan({
          peels: 20_000,
          leafSites: [
            { name: "a", peels: 15_000 },
            { name: "b", peels: 10_000 },
          ],
        }),
      ).message,
    ).toMatch(/25,000/);
  });

  test("site names are DNS labels", () => {
    expect(problemOf(() => plan({ peels: 20_000, leafSites: [{ name: "DMZ_1" }] })).path).toBe("leafSites.0.name");
  });
});

test("evenShares splits without losing a peel, larger shares first", () => {
  expect(evenShares(10, 3)).toEqual([4, 3, 3]);
  expect(evenShares(0, 2)).toEqual([0, 0]);
});
