/**
 * The first end-to-end proof of the twin's host layer: three hosts in two subnets run a real
 * nats-server each (Debian's current build) as a 3-node cluster over TLS, by their rendered
 * config and unit (topology/ renderers, the TLS provider's certificates); a client in a third
 * subnet, with this machine's files, connects with the master's credentials (operator mode's JWT
 * and seed); a host is cut off and back;
 * a reload (ExecReload, $MAINPID) moves the config load time; nothing is left afterwards.
 *
 * @servers
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { serverFiles } from "../../topology/render/server-files";
import { serverCertificate } from "../../topology/tls";
import { completeSeeds } from "../../local/identities";
import { inboxPrefix } from "../../topology/auth";
import { roleCreds, serverIdentities } from "../../topology/identities";
import { fetchFromDebian } from "../../local/nats-binary";
import { Sandbox } from "../../twin/host/sandbox";
import { parseUnit, Service, serviceConfig } from "../../twin/host/units";
import { nftTool } from "../helpers/tools";
import { issued, monitorOn as monitor, twinCa, until } from "../helpers/twin-hosts";

const DOMAIN = "zester.internal";
const HOSTS = [
  { name: "core-0", address: "10.0.1.10" },
  { name: "core-1", address: "10.0.2.10" },
  { name: "core-2", address: "10.0.1.11" },
];
const PEEL = { name: "peel", address: "10.0.3.10", prefix: 24 };

/** A Node script, run by a client host, that reports what it saw as one JSON line. */
function clientScript(ca: string, creds: string, inbox: string): string {
  const transport = require.resolve("@nats-io/transport-node");
  return `
const { connect, credsAuthenticator } = require(${JSON.stringify(transport)});
const opts = (server) => ({ servers: server, authenticator: credsAuthenticator(new TextEncoder().encode(${JSON.stringify(creds)})),
  inboxPrefix: ${JSON.stringify(inbox)}, tls: { ca: ${JSON.stringify(ca)} }, timeout: 2000, reconnect: false });
(async () => {
  const result = {};
  try {
    const a = await connect(opts("nats://core-0.${DOMAIN}:4222"));
    const b = await connect(opts("nats://core-2.${DOMAIN}:4222"));
    const sub = b.subscribe("zester.twin.probe", { max: 1 });
    await b.flush();
    await new Promise((r) => setTimeout(r, 300));
    a.publish("zester.twin.probe", "across the routes");
    for await (const m of sub) result.received = m.string();
    result.server = b.info.server_name;
    await a.close(); await b.close();
  } catch (e) { result.error = String(e.code ?? e.message); }
  console.log(JSON.stringify(result));
  process.exit(0);
})();`;
}

function processesIn(userNs: string): number {
  return readdirSync("/proc").filter((p) => {
    try {
      return /^\d+$/.test(p) && readlinkSync(`/proc/${p}/ns/user`) === userNs;
    } catch {
      return false;
    }
  }).length;
}

test("three hosts run a TLS nats-server cluster by their rendered files; a client in another subnet reaches it; a cut host comes back", async () => {
  const timings: Record<string, number> = {};
  const binary = fetchFromDebian("sid");
  const topology = build(plan({ peels: 2_000 }), standardAddressing(DOMAIN));
  const seeds = completeSeeds();
  const twin = await twinCa();
  const ca = twin.certPem;

  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
  let start = Date.now();
  const sandbox = await Sandbox.start({ dir, nft: nftTool() });
  timings.sandboxMs = Date.now() - start;
  const userNs = readlinkSync(`/proc/${String(sandbox.pid)}/ns/user`);
  const services: Service[] = [];
  try {
    start = Date.now();
    for (const h of HOSTS) await sandbox.addHost({ name: h.name, address: h.address, prefix: 24 });
    timings.perHostMs = Math.round((Date.now() - start) / HOSTS.length);
    await sandbox.addClient(PEEL);
    sandbox.setRecords(Object.fromEntries(HOSTS.map((h) => [`${h.name}.${DOMAIN}`, [h.address]])));

    start = Date.now();
    for (const h of HOSTS) {
      const server = topology.servers.find((s) => s.name === h.name);
      if (server === undefined) throw new Error(`no ${h.name}`);
      const cert = await issued(twin, serverCertificate(server));
      const files = serverFiles({
        topology,
        server: h.name,
        natsVersion: binary.version,
        natsServer: { url: "https://downloads.example/nats-server.tar.gz", sha256: "0".repeat(64) },
        identities: serverIdentities(seeds, topology),
        secretFiles: { ca, cert: cert.certPem, key: cert.keyPem },
        bindHost: "0.0.0.0",
      });
      // What the host's image and user data would have done: the service user, the binary, the store.
      await sandbox.run(h.name, [
        "sh",
        "-c",
        "echo 'nats:x:999:999::/var/lib/nats:/usr/sbin/nologin' >> /etc/passwd && echo 'nats:x:999:' >> /etc/group && mkdir -p /var/lib/nats/jetstream && chown -R 999:999 /var/lib/nats",
      ]);
      await sandbox.copyIn(h.name, binary.path, "/usr/local/bin/nats-server");
      for (const f of files.files) await sandbox.writeFile(h.name, f.path, f.content, f.mode, f.owner);
      const unit = files.files.find((f) => f.name === "nats-server.service");
      if (unit === undefined) throw new Error("no unit rendered");
      const service = new Service(sandbox, h.name, serviceConfig("nats-server", parseUnit(unit.content)));
      services.push(service);
      await service.start();
    }
    await until("every server routed to the two others", async () => {
      const routes = await Promise.all(HOSTS.map((h) => monitor(sandbox, h.name, "routez")));
      // Newer servers pool several connections per peer: count the peers.
      const peers = (r: Record<string, unknown>) =>
        new Set(((r.routes ?? []) as { remote_name?: string }[]).map((x) => x.remote_name)).size;
      return routes.every((r) => peers(r) === 2);
    });
    await until("a JetStream meta leader", async () => {
      const jsz = await monitor(sandbox, "core-0", "jsz");
      return typeof (jsz.meta_cluster as { leader?: string } | undefined)?.leader === "string";
    });
    timings.clusterFormedMs = Date.now() - start;
    // Run by root the sandbox maps every account and the server runs as its User=; otherwise User= is checked and said.
    if (sandbox.mapsAllIds)
      expect((await sandbox.run("core-0", ["ps", "-o", "user=", "-C", "nats-server"])).stdout.trim()).toBe("nats");
    else expect(services[0]?.notes.some((n) => n.startsWith("User=nats: checked"))).toBe(true);

    const script = path.join(dir, "client.js");
    writeFileSync(script, clientScript(ca, roleCreds(seeds, "master"), inboxPrefix("master")));
    const probe = async () =>
      JSON.parse(
        (await sandbox.run(PEEL.name, ["node", script], { timeoutMs: 20_000 })).stdout.trim().split("\n").at(-1) ??
          "{}",
      ) as {
        received?: string;
        error?: string;
      };
    expect(await probe()).toMatchObject({ received: "across the routes" });

    await sandbox.cut("core-2-off", ["10.0.1.11/32"], 3);
    expect((await probe()).error).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await until("core-2 reachable again", async () => (await probe()).received === "across the routes");

    const before = (await monitor(sandbox, "core-1", "varz")).config_load_time;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await services[1]?.reload();
    await until(
      "core-1's config reloaded",
      async () => (await monitor(sandbox, "core-1", "varz")).config_load_time !== before,
    );
  } catch (error) {
    // The servers' own words, before the sandbox takes them away.
    for (const h of HOSTS) {
      const log = sandbox.logFile(h.name, "nats-server");
      const tail = existsSync(log)
        ? readFileSync(log, "utf8").split("\n").slice(-15).join("\n")
        : "(no log: not started)";
      console.log(`${h.name}:\n${tail}`);
    }
    throw error;
  } finally {
    start = Date.now();
    await sandbox.stop();
    timings.cleanupMs = Date.now() - start;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(processesIn(userNs)).toBe(0);
  console.log(`twin timings: ${JSON.stringify(timings)}`);
}, 120_000);
