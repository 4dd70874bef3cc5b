import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { natsServerConfig, renderNatsServerConf } from "../../topology/render/nats-server-conf";
import { serializeNatsConf } from "../../topology/render/nats-conf-format";
import { TIER_EXAMPLES } from "../helpers/tiers";
import { cloudAuth, TEST_IDENTITIES } from "../helpers/auth";

const VERSIONS = ["2.9.10", "2.10.27", "2.15.1"];

const render = (peels: number, server: string, version: string): string => {
  const topology = build(plan({ peels }), standardAddressing("zester.internal"));
  return renderNatsServerConf({
    topology,
    server,
    version,
    storeDir: "/var/lib/nats/jetstream",
    auth: cloudAuth(topology, server),
  });
};

describe.each(VERSIONS)("nats-server.conf for %s", (version) => {
  test.each(TIER_EXAMPLES)(
    "%s: the first core server and, where there is one, the first leaf server",
    (_tier, peels) => {
      const t = build(plan({ peels }), standardAddressing("zester.internal"));
      const names = [
        t.servers.find((s) => s.role === "core")?.name,
        t.servers.find((s) => s.role === "leaf")?.name,
        t.servers.find((s) => s.region !== t.servers[0]?.region)?.name,
      ];
      for (const name of names.filter((n): n is string => n !== undefined))
        expect(render(peels, name, version)).toMatchSnapshot(name);
    },
  );
});

describe("version awareness and the guide's pitfalls", () => {
  test("sync_interval is never written for 2.9 (it rejects the key), and is `always` on single tiers from 2.10", () => {
    expect(render(50, "core-0", "2.9.10")).not.toMatch(/sync_interval/);
    expect(render(50, "core-0", "2.10.27")).toMatch(/sync_interval: "always"/);
    expect(render(2_000, "core-0", "2.15.1")).not.toMatch(/sync_interval/);
  });

  test('sizes are bare byte counts (2.9 fails on a quoted "1GB")', () => {
    expect(render(2_000, "core-0", "2.9.10")).toMatch(/max_memory_store: 4294967296\n/);
  });

  test("a single server has no cluster block; a cluster routes to every other member", () => {
    expect(render(500, "core-0", "2.9.10")).not.toMatch(/cluster:/);
    const routes = render(2_000, "core-1", "2.9.10").match(/nats-route:\/\//g) ?? [];
    expect(routes).toHaveLength(2);
  });

  test("an explicit system account always, and leaf servers run no JetStream", () => {
    const topology = build(plan({ peels: 60_000 }), standardAddressing("z"));
    const leaf = natsServerConfig({
      topology,
      server: "leaf-edge-0",
      version: "2.15.1",
      storeDir: "/x",
      auth: cloudAuth(topology, "leaf-edge-0"),
    });
    expect(leaf.system_account).toBe(TEST_IDENTITIES.accounts.system.key);
    expect(leaf.jetstream).toBeUndefined();
    expect(render(60_000, "leaf-edge-0", "2.15.1")).toMatch(/"nats-leaf:\/\/core-0\.zester\.internal:7422"/);
  });

  test("versions older than bookworm's 2.9 are refused", () => {
    expect(() => render(50, "core-0", "2.8.4")).toThrow(/older than 2\.9\.0/);
  });

  test("the serializer quotes strings and keys that need it, and refuses a non-finite number", () => {
    expect(serializeNatsConf({ a: 'x"y', "odd-key": 1, b: [true], c: {} })).toBe(
      'a: "x\\"y"\n"odd-key": 1\nb: [\n  true\n]\nc: {}\n',
    );
    expect(() => serializeNatsConf({ a: Number.NaN })).toThrow(/NaN/);
  });
});
