/**
 * The AZ tags the AWS target renders (`server_tags` + JetStream `unique_tag`) on a real 5-server
 * cluster spread 2-2-1 like on AWS: every R3 stream must get its replicas in three different
 * zones. Without `unique_tag`, six streams would all land on three zones by chance less than
 * 1 time in 200 (4 of the 10 server triples span three zones: 0.4^6).
 *
 * @servers
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectAdmin } from "../../jetstream/connect";
import { waitHealthy } from "../../jetstream/health";
import { loopbackAddressing, PORTS_PER_SERVER } from "../../local/addressing";
import { fetchFromDebian } from "../../local/nats-binary";
import { freePorts } from "../../local/ports";
import { plan } from "../../sizing";
import { build } from "../../topology";
import { renderNatsServerConf } from "../../topology/render/nats-server-conf";
import { clientUrl } from "../../topology/types";
import { SUITES, tempStateDir } from "../helpers/local";
import { realAuth } from "../helpers/auth";

const ZONES = ["az-a", "az-b", "az-c"];

test.each(SUITES)(
  "nats-server from Debian %s: unique_tag puts each R3 stream's replicas in three zones",
  async (suite) => {
    const binary = fetchFromDebian(suite);
    const dir = tempStateDir(`az-${suite}`);
    const children: ChildProcess[] = [];
    try {
      const sizing = plan({ peels: 20_000 });
      const t = build(sizing, loopbackAddressing(await freePorts(sizing.totalServers * PORTS_PER_SERVER)));
      const zoneOf = new Map(t.servers.map((s, i) => [s.name, ZONES[i % 3] ?? ""]));
      const auth = await realAuth(dir, t);
      for (const s of t.servers) {
        const store = path.join(dir, s.name);
        mkdirSync(store, { recursive: true });
        const file = path.join(dir, `${s.name}.conf`);
        writeFileSync(
          file,
          renderNatsServerConf({
            topology: t,
            server: s.name,
            version: binary.version,
            storeDir: store,
            auth: auth.server(s.name),
            serverTags: [`az:${zoneOf.get(s.name) ?? ""}`],
            uniqueTagPrefix: "az:",
          }),
        );
        children.push(spawn(binary.path, ["-c", file], { stdio: "ignore" }));
      }
      await waitHealthy(t, 60_000);
      const nc = await connectAdmin(t.servers.map(clientUrl), auth.client("master"));
      try {
        const jsm = await jetstreamManager(nc, { timeout: 10_000 });
        for (let i = 0; i < 6; i++) {
          await jsm.streams.add({ name: `placed-${String(i)}`, subjects: [`placed.${String(i)}`], num_replicas: 3 });
          let servers: string[] = [];
          for (let tries = 0; tries < 100 && servers.length < 3; tries++) {
            const cluster = (await jsm.streams.info(`placed-${String(i)}`)).cluster;
            servers = [cluster?.leader ?? "", ...(cluster?.replicas ?? []).map((r) => r.name)].filter((n) => n !== "");
            if (servers.length < 3) await new Promise((r) => setTimeout(r, 100));
          }
          expect(new Set(servers.map((n) => zoneOf.get(n))).size).toBe(3);
        }
      } finally {
        await nc.close();
      }
    } finally {
      for (const child of children) child.kill("SIGKILL");
      const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(running.map((c) => new Promise((r) => c.once("exit", r))));
      rmSync(dir, { recursive: true, force: true });
    }
  },
  120_000,
);
