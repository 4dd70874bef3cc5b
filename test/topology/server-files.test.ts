/**
 * What a cloud server runs by: its files (delivered by the target, applied by its agent) and its
 * user data, which only installs the agent. `cloud-init schema` (Debian's) checks the user data.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import path from "node:path";
import { parse } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { renderBootstrap } from "../../topology/render/bootstrap";
import { serializeNatsConf } from "../../topology/render/nats-conf-format";
import { natsServerConfig } from "../../topology/render/nats-server-conf";
import { GENERATION_TAG, serverFiles, STORE_DIR, type ServerFilesInput } from "../../topology/render/server-files";
import { cloudInitSchema } from "../helpers/tools";
import { TEST_IDENTITIES } from "../helpers/auth";
import { tlsFilesIn } from "../../topology/tls";
import { TLS_DIR } from "../../topology/render/server-files";

const server = (name: string) => {
  const s = build(plan({ peels: 2_000 }), standardAddressing("zester.internal")).servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no ${name}`);
  return s;
};

const SECRET_FILES = {
  ca: "CA",
  cert: "CERT",
  key: "KEY",
  linkCert: "LINK",
  linkKey: "LINK-KEY",
  linkCreds: "LINK-CREDS",
  masterCreds: "MASTER-CREDS",
  peelIssuerSeed: "SAISSUER",
};
const PIN = { url: "https://downloads.example/nats-server-v2.10.27-linux-amd64.tar.gz", sha256: "0".repeat(64) };
const MASTER = { url: "https://downloads.example/zester-master", sha256: "1".repeat(64) };
const AGENT = readFileSync(path.join(__dirname, "..", "..", "components", "aws", "zester-apply.py"), "utf8");

function input(peels: number, server: string, extra: Partial<ServerFilesInput> = {}): ServerFilesInput {
  return {
    topology: build(plan({ peels }), standardAddressing("zester.internal")),
    server,
    natsVersion: "2.10.27",
    natsServer: PIN,
    zesterMaster: MASTER,
    identities: TEST_IDENTITIES,
    secretFiles: SECRET_FILES,
    bindHost: "0.0.0.0",
    ...extra,
  };
}

const bootstrap = (server: string, dataDisk?: { kind: "ebs" | "instance-store"; disks: number }) =>
  renderBootstrap({
    server,
    tier: "cluster-3",
    agentScript: AGENT,
    agent: { region: "eu-west-1", path: `/zester/zester-infra-staging/zester/${server}/` },
    ...(dataDisk === undefined ? {} : { dataDisk }),
  });

describe("a server's files", () => {
  test("its nats-server.conf is the renderer's, listening on all addresses, advertising its name, tagged with its generation", () => {
    const files = serverFiles(input(2_000, "core-1", { serverTags: ["az:eu-west-1b"], uniqueTagPrefix: "az:" }));
    const conf = files.files.find((f) => f.name === "nats-server.conf");
    const expected = natsServerConfig({
      topology: input(2_000, "core-1").topology,
      server: "core-1",
      version: "2.10.27",
      storeDir: STORE_DIR,
      auth: {
        identities: TEST_IDENTITIES,
        tls: tlsFilesIn(TLS_DIR, input(2_000, "core-1").topology, server("core-1")),
      },
      bindHost: "0.0.0.0",
      advertise: true,
      serverTags: ["az:eu-west-1b", `${GENERATION_TAG}${files.generation}`],
      uniqueTagPrefix: "az:",
    });
    expect(conf?.content).toContain(serializeNatsConf(expected));
    expect(conf?.content).toMatch(/^listen: "0\.0\.0\.0:4222"$/m);
    expect(conf?.content).toMatch(/^client_advertise: "core-1\.zester\.internal:4222"$/m);
    expect(conf?.content).toMatch(/advertise: "core-1\.zester\.internal:6222"/);
    expect(files.files.map((f) => [f.path, f.service ?? null])).toEqual([
      ["/etc/nats/nats-server.conf", "nats-server"],
      ["/etc/nats/tls/ca.pem", "nats-server"],
      ["/etc/nats/tls/server.pem", "nats-server"],
      ["/etc/nats/tls/server-key.pem", "nats-server"],
      ["/etc/systemd/system/nats-server.service", "nats-server"],
      ["/etc/zester/master.yaml", "zester-master"],
      ["/etc/zester/master.creds", "zester-master"],
      ["/etc/zester/peel-issuer.nk", "zester-master"],
      ["/etc/systemd/system/zester-master.service", "zester-master"],
    ]);
    // The key, the credentials and the issuer's seed are readable by their service only.
    expect(files.files.find((f) => f.name === "server-key.pem")).toMatchObject({ mode: "0640", owner: "root:nats" });
    expect(files.files.find((f) => f.name === "master.creds")).toMatchObject({ mode: "0600", owner: "root:root" });
    expect(files.files.find((f) => f.name === "peel-issuer.nk")).toMatchObject({ mode: "0600", owner: "root:root" });
    expect(files.pins["nats-server"]?.sha256).toBe(PIN.sha256);
    expect(files.services).toEqual(["nats-server.service", "zester-master.service"]);
  });

  test("a peel-count change inside the tier is a reload, never a restart; across tiers it is a restart", () => {
    const at = (peels: number) => serverFiles(input(peels, "core-0"));
    const [a, b, c] = [at(2_000), at(9_000), at(12_000)];
    expect(b.reload).not.toBe(a.reload);
    expect(b.generation).toBe(a.generation);
    expect(c.generation).not.toBe(a.generation);
    // JWTs and certificates are no part of either: a rotation or a revocation is a file change, which reloads.
    const rotated = serverFiles(
      input(2_000, "core-0", {
        identities: {
          ...TEST_IDENTITIES,
          accounts: { ...TEST_IDENTITIES.accounts, peels: { key: "AP", jwt: "REVOKED" } },
        },
        secretFiles: { ...SECRET_FILES, cert: "NEW" },
      }),
    );
    expect([rotated.generation, rotated.reload]).toEqual([a.generation, a.reload]);
  });

  test("a leaf server gets no Zester master and no JetStream store", () => {
    const files = serverFiles(input(60_000, "leaf-edge-0"));
    expect(files.files.map((f) => f.path)).not.toContain("/etc/zester/master.yaml");
    expect(files.files.find((f) => f.name === "nats-server.conf")?.content).not.toMatch(/jetstream:/);
  });

  test("a pin that is not https or not a SHA-256 is refused, naming the field", () => {
    expect(() => serverFiles(input(50, "core-0", { natsServer: { ...PIN, url: "http://insecure/x" } }))).toThrow(
      /natsServer\.url must be an https:\/\/ URL/,
    );
    expect(() => serverFiles(input(50, "core-0", { zesterMaster: { ...MASTER, sha256: "abc" } }))).toThrow(
      /zesterMaster\.sha256 must be 64 lowercase hex/,
    );
  });
});

describe("the user data", () => {
  test.each([
    ["core-0", undefined],
    ["core-1", { kind: "ebs", disks: 1 }],
    ["core-4", { kind: "instance-store", disks: 2 }],
  ] as const)("%s: valid by `cloud-init schema`", (server, disk) => {
    const r = cloudInitSchema(bootstrap(server, disk));
    expect(r.out).toMatch(/Valid cloud-config/);
    expect(r.status).toBe(0);
  });

  test("`cloud-init schema` really validates: a config with a wrong type is refused", () => {
    const r = cloudInitSchema("#cloud-config\nruncmd: 5\nwrite_files: [{content: 3}]\n");
    expect(r.out).toMatch(/runcmd: 5 is not of type 'array'/);
    expect(r.out).toMatch(/'path' is a required property/);
    expect(r.status).not.toBe(0);
  });

  test("installs the agent byte for byte and starts it; holds no secret and nothing of the plan", () => {
    const text = bootstrap("core-0", { kind: "ebs", disks: 1 });
    const doc = parse(text) as {
      write_files: { path: string; content: string; encoding?: string }[];
      runcmd: string[][];
    };
    const agent = doc.write_files.find((f) => f.path === "/usr/local/sbin/zester-apply");
    expect(agent?.encoding).toBe("gz+b64");
    expect(gunzipSync(Buffer.from(agent?.content ?? "", "base64")).toString()).toBe(AGENT);
    expect(JSON.parse(doc.write_files.find((f) => f.path === "/etc/zester/agent.json")?.content ?? "{}")).toEqual({
      region: "eu-west-1",
      path: "/zester/zester-infra-staging/zester/core-0/",
    });
    expect(doc.runcmd).toContainEqual(["systemctl", "enable", "--now", "zester-apply.service"]);
    expect(doc.runcmd).toContainEqual(["systemctl", "enable", "--now", "zester-apply.timer"]);
    // Apart from the agent's own program, nothing in it is a secret or follows the plan.
    const rest = text.replace(
      AGENT.split("\n")
        .map((line) => (line === "" ? "" : `      ${line}`))
        .join("\n"),
      "",
    );
    expect(rest).not.toContain(AGENT.slice(0, 40));
    expect(rest).not.toMatch(/password|max_connections|nats-server\.conf|LimitNOFILE/);
  });

  test.each(["core-0", "leaf-edge-0"])("%s: matches its snapshot", (server) => {
    expect(bootstrap(server)).toMatchSnapshot();
  });
});
