/**
 * A 5-node tier on Kubernetes gets a full route mesh over TLS. Five hosts with addresses of their
 * own, named as the headless Service names pods, each run nats-server with the config the
 * Kubernetes target renders (`renderConf`) and a certificate with the names the target gives it
 * (`kubernetesReachedBy`): no IP. The routes list the first three servers and gossip does the
 * rest; a server gossips the route URL it advertises, and without an advertised name that is its
 * IP, which no certificate holds (core-3 and core-4 never routed to each other, on 2.9.10 and the
 * current release, and core-0 logged "doesn't contain any IP SANs"). Checked: every pair of
 * servers has a route (`/routez`), and a client of core-3 receives what is published on core-4.
 *
 * @servers
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { plan } from "../../sizing";
import { build } from "../../topology";
import { serverCertificate } from "../../topology/tls";
import { inboxPrefix } from "../../topology/auth";
import { completeSeeds } from "../../local/identities";
import { roleCreds, serverIdentities } from "../../topology/identities";
import { fetchFromDebian } from "../../local/nats-binary";
import { KUBERNETES } from "../../components/kubernetes/target";
import { kubernetesReachedBy, kubernetesTlsFiles, renderConf } from "../../components/kubernetes/layout";
import { CONFIG_DIR, STORE_DIR } from "../../components/kubernetes/objects";
import { KubernetesSettingsSchema } from "../../components/kubernetes/settings";
import { Sandbox } from "../../twin/host/sandbox";
import { nftTool } from "../helpers/tools";
import { issued, monitorOn as monitor, twinCa, until } from "../helpers/twin-hosts";

/** A client on a host: subscribes through `to`, publishes through `from`, prints what arrived. */
function clientScript(ca: string, creds: string, from: string, to: string): string {
  const transport = require.resolve("@nats-io/transport-node");
  return `
const { connect, credsAuthenticator } = require(${JSON.stringify(transport)});
const opts = (server) => ({ servers: server, authenticator: credsAuthenticator(new TextEncoder().encode(${JSON.stringify(creds)})),
  inboxPrefix: ${JSON.stringify(inboxPrefix("master"))}, tls: { ca: ${JSON.stringify(ca)} }, timeout: 3000, reconnect: false });
(async () => {
  const result = {};
  try {
    const b = await connect(opts(${JSON.stringify(`nats://${to}:4222`)}));
    const a = await connect(opts(${JSON.stringify(`nats://${from}:4222`)}));
    const sub = b.subscribe("zester.twin.probe", { max: 1, timeout: 3000 });
    await b.flush();
    await new Promise((r) => setTimeout(r, 500));
    a.publish("zester.twin.probe", "across the routes");
    for await (const m of sub) result.received = m.string();
    result.servers = [a.info.server_name, b.info.server_name];
    await a.close(); await b.close();
  } catch (e) { result.error = String(e.code ?? e.message); }
  console.log(JSON.stringify(result));
  process.exit(0);
})();`;
}

const VERSIONS: [string, () => ReturnType<typeof fetchFromDebian>][] = [
  ["bookworm", () => fetchFromDebian("bookworm")],
  ["sid", () => fetchFromDebian("sid")],
];

test.each(VERSIONS)(
  "Debian %s's nats-server: five pods by the Kubernetes config route to each other, every pair, over TLS",
  async (_suite, fetch) => {
    const binary = fetch();
    const settings = KubernetesSettingsSchema.parse({ natsServer: { image: "nats:test", version: binary.version } });
    const topology = build(plan({ peels: 12_000 }), KUBERNETES.addressing(settings));
    const cores = topology.servers.filter((s) => s.role === "core");
    expect(cores.map((s) => s.name)).toEqual(["core-0", "core-1", "core-2", "core-3", "core-4"]);
    const hosts = cores.map((s, i) => ({ server: s, address: `10.0.1.${String(10 + i)}` }));
    const seeds = completeSeeds();
    const identities = serverIdentities(seeds, topology);
    const twin = await twinCa();
    const ca = twin.certPem;
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-k8s-routes-"));
    const sandbox = await Sandbox.start({ dir, nft: nftTool() });
    try {
      for (const h of hosts) await sandbox.addHost({ name: h.server.name, address: h.address, prefix: 24 });
      // A pod of peels next to them (a client sees this machine's files: the script, the NATS client).
      await sandbox.addClient({ name: "peel", address: "10.0.1.20", prefix: 24 });
      // What the cluster's DNS answers: each pod's name under the headless Service.
      sandbox.setRecords(Object.fromEntries(hosts.map((h) => [h.server.host, [h.address]])));
      for (const h of hosts) {
        const spec = serverCertificate(h.server, kubernetesReachedBy(topology, settings));
        expect(spec.ipAddresses).toEqual([]);
        const cert = await issued(twin, spec);
        const tls = kubernetesTlsFiles(topology, h.server.name);
        const name = h.server.name;
        await sandbox.writeFile(name, tls.caFile, ca);
        await sandbox.writeFile(name, tls.certFile, cert.certPem);
        await sandbox.writeFile(name, tls.keyFile, cert.keyPem, "0600");
        const conf = `${CONFIG_DIR}/${name}.conf`;
        await sandbox.writeFile(name, conf, renderConf(topology, name, settings, identities));
        await sandbox.run(name, ["mkdir", "-p", STORE_DIR, "/var/run/nats"]);
        await sandbox.copyIn(name, binary.path, "/usr/local/bin/nats-server");
        sandbox.spawn(name, ["/usr/local/bin/nats-server", "--config", conf], sandbox.logFile(name, "nats-server"));
      }
      // By server id: 2.9's /routez has no remote_name. Newer servers pool several connections a peer.
      const names = new Map<string, string>();
      const peers = (r: Record<string, unknown>): string[] => [
        ...new Set(((r.routes ?? []) as { remote_id?: string }[]).map((x) => names.get(x.remote_id ?? "") ?? "?")),
      ];
      let seen: Record<string, string[]> = {};
      await until(
        "every server routed to the four others",
        async () => {
          for (const h of hosts) {
            const id = (await monitor(sandbox, h.server.name, "varz")).server_id;
            if (typeof id === "string") names.set(id, h.server.name);
          }
          const routez = await Promise.all(hosts.map((h) => monitor(sandbox, h.server.name, "routez")));
          seen = Object.fromEntries(hosts.map((h, i) => [h.server.name, peers(routez[i] ?? {}).sort()]));
          return Object.values(seen).every((p) => p.length === 4);
        },
        45_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}: routes ${JSON.stringify(seen)}`);
      });
      for (const h of hosts)
        expect(seen[h.server.name]).toEqual(hosts.map((x) => x.server.name).filter((n) => n !== h.server.name));

      const script = path.join(dir, "client.js");
      const [three, four] = [hosts[3], hosts[4]];
      if (three === undefined || four === undefined) throw new Error("five hosts expected");
      writeFileSync(script, clientScript(ca, roleCreds(seeds, "master"), four.server.host, three.server.host));
      const r = await sandbox.run("peel", ["node", script], { timeoutMs: 20_000 });
      expect(JSON.parse(r.stdout.trim().split("\n").at(-1) || JSON.stringify({ stderr: r.stderr }))).toEqual({
        received: "across the routes",
        servers: ["core-4", "core-3"],
      });
    } catch (error) {
      for (const h of hosts) {
        const log = sandbox.logFile(h.server.name, "nats-server");
        const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-12).join("\n") : "(no log)";
        console.log(`${h.server.name}:\n${tail}`);
      }
      throw error;
    } finally {
      await sandbox.stop();
    }
  },
  120_000,
);
