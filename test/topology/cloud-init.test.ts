import { parse } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { renderCloudInit, STORE_DIR, type CloudInitInput } from "../../topology/render/cloud-init";
import { renderNatsServerConf } from "../../topology/render/nats-server-conf";
import { cloudInitSchema } from "../helpers/tools";

const SECRETS = { system: "s", app: "a", leaf: "l", route: "r" };
const PIN = { url: "https://downloads.example/nats-server-v2.10.27-linux-amd64.tar.gz", sha256: "0".repeat(64) };
const MASTER = { url: "https://downloads.example/zester-master", sha256: "1".repeat(64) };

function input(peels: number, server: string): CloudInitInput {
  return {
    topology: build(plan({ peels }), standardAddressing("zester.internal")),
    server,
    natsVersion: "2.10.27",
    natsServer: PIN,
    zesterMaster: MASTER,
    secrets: SECRETS,
  };
}

describe("cloud-init", () => {
  test.each([
    [50, "core-0"],
    [2_000, "core-1"],
    [25_000, "core-4"],
    [60_000, "leaf-edge-0"],
    [150_000, "region-1-core-0"],
  ])("%i peels, %s: valid by `cloud-init schema`", (peels, server) => {
    const r = cloudInitSchema(renderCloudInit(input(peels, server)));
    expect(r.out).toMatch(/Valid cloud-config/);
    expect(r.status).toBe(0);
  });

  test("`cloud-init schema` really validates: a config with a wrong type is refused", () => {
    const r = cloudInitSchema("#cloud-config\nruncmd: 5\nwrite_files: [{content: 3}]\n");
    expect(r.out).toMatch(/runcmd: 5 is not of type 'array'/);
    expect(r.out).toMatch(/'path' is a required property/);
    expect(r.status).not.toBe(0);
  });

  test("the nats-server.conf inside is byte for byte the renderer's (the one the local target boots)", () => {
    const i = input(25_000, "core-0");
    const doc = parse(renderCloudInit(i)) as {
      write_files: { path: string; content: string }[];
      runcmd: (string | string[])[];
    };
    const conf = doc.write_files.find((f) => f.path === "/etc/nats/nats-server.conf")?.content;
    expect(conf).toBe(
      renderNatsServerConf({
        topology: i.topology,
        server: "core-0",
        version: "2.10.27",
        storeDir: STORE_DIR,
        secrets: SECRETS,
      }),
    );
    expect(doc.write_files.map((f) => f.path)).toEqual([
      "/etc/nats/nats-server.conf",
      "/etc/systemd/system/nats-server.service",
      "/etc/sysctl.d/99-zester.conf",
      "/etc/zester/master.yaml",
      "/etc/systemd/system/zester-master.service",
      "/etc/zester/pins.json",
      "/usr/local/sbin/zester-apply",
      "/etc/systemd/system/zester-apply.service",
    ]);
    // The pinned binaries are installed by zester-apply (checksum first), before nats-server starts.
    const pins = JSON.parse(doc.write_files.find((f) => f.path === "/etc/zester/pins.json")?.content ?? "{}") as Record<
      string,
      { sha256: string }
    >;
    expect(pins["nats-server"]?.sha256).toBe(PIN.sha256);
    expect(pins["zester-master"]?.sha256).toBe(MASTER.sha256);
    const commands = doc.runcmd.map((c) => JSON.stringify(c));
    const apply = commands.indexOf(JSON.stringify(["systemctl", "enable", "--now", "zester-apply.service"]));
    expect(apply).toBeGreaterThanOrEqual(0);
    expect(apply).toBeLessThan(
      commands.indexOf(JSON.stringify(["systemctl", "enable", "--now", "nats-server.service"])),
    );
  });

  test("a leaf server gets no Zester master and no JetStream store", () => {
    const doc = parse(renderCloudInit(input(60_000, "leaf-edge-0"))) as {
      write_files: { path: string; content: string }[];
    };
    expect(doc.write_files.map((f) => f.path)).not.toContain("/etc/zester/master.yaml");
    expect(doc.write_files.find((f) => f.path.endsWith("nats-server.conf"))?.content).not.toMatch(/jetstream:/);
  });

  test("a pin that is not https or not a SHA-256 is refused, naming the field", () => {
    expect(() => renderCloudInit({ ...input(50, "core-0"), natsServer: { ...PIN, url: "http://insecure/x" } })).toThrow(
      /natsServer\.url must be an https:\/\/ URL/,
    );
    expect(() => renderCloudInit({ ...input(50, "core-0"), zesterMaster: { ...MASTER, sha256: "abc" } })).toThrow(
      /zesterMaster\.sha256 must be 64 lowercase hex/,
    );
  });
});

test.each([
  [50, "core-0"],
  [500, "core-0"],
  [2_000, "core-0"],
  [20_000, "core-0"],
  [60_000, "leaf-edge-0"],
  [150_000, "region-0-core-0"],
])("%i peels, %s: the user data matches its snapshot", (peels, server) => {
  expect(renderCloudInit(input(peels, server))).toMatchSnapshot();
});
