import { existsSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { DEFAULT_UNIT_PATHS, natsServerUnit, sysctlFile, zesterUnit } from "../../topology/render/systemd";
import { leafNodeConfig, masterConfig, peelConfig } from "../../topology/render/zester-config";
import { verifyUnits } from "../helpers/systemd";
import { TIER_EXAMPLES } from "../helpers/tiers";

const CREDS = { credsFile: "/etc/zester/master.creds", caFile: "/etc/nats/tls/ca.pem" };

describe("systemd units", () => {
  test.each([50, 2_000, 60_000])(
    "%i peels: nats-server stops through lame duck, with the plan's LimitNOFILE",
    (peels) => {
      const p = plan({ peels });
      const unit = natsServerUnit(p, p.os.limitNofile);
      expect(unit).toMatchSnapshot();
      expect(unit).toMatch(/^KillSignal=SIGUSR2$/m);
      expect(unit).toMatch(new RegExp(`^LimitNOFILE=${p.os.limitNofile}$`, "m"));
      const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
      expect(stop).toBeGreaterThan(p.natsServer.lameDuckDurationSeconds + p.natsServer.lameDuckGracePeriodSeconds);
    },
  );

  test("systemd-analyze verify accepts every unit (pointed at executables that exist here)", () => {
    // systemd-analyze checks that each command is an executable, and runs none: /bin/true serves,
    // where a nats-server from .cache/ would be there only after the servers' global setup (a fresh
    // clone's `npm run test:unit` has none).
    const paths = {
      ...DEFAULT_UNIT_PATHS,
      natsServerBin: "/bin/true",
      zesterMasterBin: "/bin/true",
      zesterPeelBin: "/bin/true",
      user: "root",
    };
    const p = plan({ peels: 2_000 });
    const r = verifyUnits({
      "nats-server.service": natsServerUnit(p, p.os.limitNofile, paths),
      "zester-master.service": zesterUnit("master", p, paths),
      "zester-peel.service": zesterUnit("peel", p, paths),
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("/etc/sysctl.d/99-zester.conf", () => {
  test("absent below 10,000 peels; from there, the guide's keys, each one a setting this kernel has", () => {
    expect(sysctlFile(plan({ peels: 9_999 }))).toBeUndefined();
    const file = sysctlFile(plan({ peels: 10_000 })) ?? "";
    expect(file).toMatchSnapshot();
    const keys = file
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const m = /^([a-z0-9_.-]+) = (\S.*)$/.exec(l);
        expect(m).not.toBeNull();
        return m?.[1] ?? "";
      });
    expect(keys).toHaveLength(6);
    for (const key of keys) expect(existsSync(path.join("/proc/sys", ...key.split(".")))).toBe(true);
  });
});

describe("Zester config", () => {
  const t = build(plan({ peels: 60_000, leafSites: [{ name: "dmz" }] }), standardAddressing("z"));

  test("a master talks to its own server first, then the rest of its cluster, with the plan's client tuning", () => {
    const y = parse(masterConfig(t, "core-1", CREDS)) as {
      nats: { servers: string[]; jetstream_domain: string; client: Record<string, unknown> };
    };
    expect(y.nats.servers[0]).toBe("nats://core-1.z:4222");
    expect(y.nats.servers).toHaveLength(5);
    expect(y.nats.jetstream_domain).toBe("zester");
    expect(y.nats.client).toEqual({
      max_reconnects: -1,
      reconnect_wait: "2s",
      reconnect_jitter: "1s",
      reconnect_buf_size: 8388608,
      ping_interval: "20s",
      max_pings_out: 3,
      drain_timeout: "30s",
      ack_timeout: "0.25s",
      publish_attempts: 6,
    });
  });

  test("a peel of a leaf site tries its site's leaf servers first and the core last; 5 s reconnect wait at 50k+", () => {
    const y = parse(peelConfig(t, { region: "main", site: "dmz" }, CREDS)) as {
      nats: { servers: string[]; client: { reconnect_wait: string } };
    };
    expect(y.nats.servers.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `nats://leaf-dmz-${i}.z:4222`));
    expect(y.nats.servers.slice(6)).toHaveLength(5);
    expect(y.nats.client.reconnect_wait).toBe("5s");
  });

  test("a leaf server's Zester config has the guide's shape: nats.listen and nats.leaf_node.remotes over tls://", () => {
    const y = parse(leafNodeConfig(t, "leaf-dmz-0", "/etc/zester/leaf.creds")) as {
      nats: { listen: string; leaf_node: { remotes: { url: string; credentials: string }[] } };
    };
    expect(y.nats.listen).toBe("leaf-dmz-0.z:4222");
    expect(y.nats.leaf_node.remotes[0]).toEqual({
      url: "tls://core-0.z:7422",
      credentials: "/etc/zester/leaf.creds",
    });
  });
});

describe.each(TIER_EXAMPLES)("every rendered file of the %s tier", (_tier, peels) => {
  test("matches its snapshot", () => {
    const t = build(plan({ peels }), standardAddressing("zester.internal"));
    const core = t.servers.find((s) => s.role === "core");
    const leaf = t.servers.find((s) => s.role === "leaf");
    expect(masterConfig(t, core?.name ?? "", CREDS)).toMatchSnapshot("master.yaml");
    expect(peelConfig(t, { region: core?.region ?? "" }, CREDS)).toMatchSnapshot("peel.yaml");
    if (leaf !== undefined)
      expect(leafNodeConfig(t, leaf.name, "/etc/zester/leaf.creds")).toMatchSnapshot("leaf-node zester.yaml");
    expect(natsServerUnit(t.plan, t.plan.os.limitNofile)).toMatchSnapshot("nats-server.service");
    expect(zesterUnit("master", t.plan)).toMatchSnapshot("zester-master.service");
    expect(zesterUnit("peel", t.plan)).toMatchSnapshot("zester-peel.service");
    expect(sysctlFile(t.plan) ?? "(none)").toMatchSnapshot("99-zester.conf");
  });
});
