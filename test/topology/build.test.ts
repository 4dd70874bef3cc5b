import { plan } from "../../sizing";
import { build, standardAddressing, validate, TopologyError, type Topology } from "../../topology";

const topo = (peels: number, extra: Parameters<typeof plan>[0] = { peels }): Topology =>
  build(plan({ ...extra, peels }), standardAddressing("zester.internal"));

function problems(t: Topology): string[] {
  try {
    validate(t);
  } catch (error) {
    if (error instanceof TopologyError) return error.problems;
    throw error;
  }
  return [];
}

describe("build()", () => {
  test("a single server has no cluster port and no leaf port", () => {
    const t = topo(50);
    expect(t.servers.map((s) => s.name)).toEqual(["core-0"]);
    expect(t.servers[0]?.ports).toEqual({ client: 4222, monitor: 8222 });
    expect(t.servers[0]?.host).toBe("core-0.zester.internal");
  });

  test("2,000 peels: three core servers in one cluster, ordinal names", () => {
    const t = topo(2_000);
    expect(t.clusters).toEqual([{ name: "zester", region: "main", servers: ["core-0", "core-1", "core-2"] }]);
    expect(t.servers.every((s) => s.ports.cluster === 6222 && s.jetstream)).toBe(true);
  });

  test("the leaf tier: five cores listen for leaf connections, the site's servers are named after it", () => {
    const t = topo(60_000, { peels: 60_000, leafSites: [{ name: "dmz" }, { name: "branch-offices" }] });
    expect(t.servers.filter((s) => s.role === "core").every((s) => s.ports.leafnode === 7422)).toBe(true);
    expect(t.leafSites.map((s) => [s.name, s.hub, s.servers])).toEqual([
      ["dmz", "zester", ["leaf-dmz-0", "leaf-dmz-1", "leaf-dmz-2"]],
      ["branch-offices", "zester", ["leaf-branch-offices-0", "leaf-branch-offices-1", "leaf-branch-offices-2"]],
    ]);
    expect(t.servers.filter((s) => s.role === "leaf").every((s) => !s.jetstream && s.ports.cluster === undefined)).toBe(
      true,
    );
  });

  test("a supercluster: one cluster and JetStream domain per region, regions linked to the first one", () => {
    const t = topo(150_000);
    expect(t.clusters.map((c) => c.name)).toEqual(["zester", "region-1"]);
    expect(new Set(t.servers.filter((s) => s.region === "region-1" && s.role === "core").map((s) => s.domain))).toEqual(
      new Set(["region-1"]),
    );
    expect(t.regionLinks).toEqual([{ region: "region-1", hub: "region-0" }]);
    expect(t.servers.map((s) => s.name)).toContain("region-1-leaf-edge-7");
  });

  test("growing into a supercluster keeps the first region's servers, cluster and domain: it adds a region", () => {
    const leaf = topo(60_000);
    const grown = topo(150_000);
    const identity = (t: Topology, region: string) =>
      t.servers
        .filter((s) => s.region === region)
        .map((s) => [s.name, s.cluster ?? s.site, s.domain])
        .filter(([name]) => leaf.servers.some((s) => s.name === name));
    expect(identity(grown, "region-0")).toEqual(identity(leaf, "main"));
    expect(grown.servers.filter((s) => s.region === "region-0" && s.role === "core").map((s) => s.domain)).toEqual(
      Array(5).fill("zester"),
    );
    expect(grown.clusters.find((c) => c.region === "region-1")?.servers[0]).toBe("region-1-core-0");
  });

  test("growing a tier keeps every surviving server's name", () => {
    const before = topo(2_000).servers.map((s) => s.name);
    const after = topo(12_000).servers.map((s) => s.name);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  test.each([0, 500, 5_000, 20_000, 75_000, 250_000])(
    "%i peels: names are unique and the topology validates",
    (peels) => {
      const t = topo(peels);
      expect(new Set(t.servers.map((s) => s.name)).size).toBe(t.servers.length);
      expect(t.servers).toHaveLength(t.plan.totalServers);
      expect(problems(t)).toEqual([]);
    },
  );
});

describe("validate()", () => {
  test("a duplicate server name is an error (nats-server would silently shrink the meta group)", () => {
    const t = topo(2_000);
    const [a, b] = t.servers;
    if (a === undefined || b === undefined) throw new Error("need two servers");
    const broken = { ...t, servers: [a, { ...b, name: a.name, host: "other" }, ...t.servers.slice(2)] };
    expect(problems(broken).join("\n")).toMatch(/"core-0" is used twice/);
  });

  test("a single server with a cluster port is an error (it would never elect a meta leader)", () => {
    const t = topo(50);
    const broken = { ...t, servers: t.servers.map((s) => ({ ...s, ports: { ...s.ports, cluster: 6222 } })) };
    expect(problems(broken).join("\n")).toMatch(/single server with a cluster port/);
  });

  test("a JetStream domain with '.' is an error; so are replicas above one cluster's servers", () => {
    const t = topo(150_000);
    const broken = { ...t, servers: t.servers.map((s) => (s.domain === undefined ? s : { ...s, domain: "eu.west" })) };
    expect(problems(broken).join("\n")).toMatch(/may not .* contain '\.'/);
    const tooMany = { ...t, plan: { ...t.plan, kv: t.plan.kv.map((b) => ({ ...b, replicas: 7 })) } };
    expect(problems(tooMany).join("\n")).toMatch(/replicas 7, more than the 5 servers/);
  });

  test("two servers on one host and port are an error", () => {
    const t = topo(2_000);
    expect(problems({ ...t, servers: t.servers.map((s) => ({ ...s, host: "same" })) }).join("\n")).toMatch(
      /already taken/,
    );
  });
});
