/**
 * Every tier booted with real nats-server processes, its shape checked through the monitoring
 * endpoints directly (not through the code under test). Shared by one test file per version.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connectAdmin } from "../../jetstream/connect";
import { reconcileKv } from "../../jetstream/reconcile";
import type { DebianSuite } from "../../local/nats-binary";
import { down, up } from "../../local/runner";
import { fetchFromDebian } from "../../local/nats-binary";
import { clientAuth } from "../../local/identities";
import { boot, eventually, monitor, tempStateDir } from "../helpers/local";
import { peelSession } from "../helpers/peel-session";
import { TIER_EXAMPLES } from "../helpers/tiers";

interface Varz {
  server_name: string;
  version: string;
}
interface Routez {
  routes: { remote_name?: string; remote_id: string }[] | null;
}
interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
  config?: { domain?: string };
}
interface Leafz {
  leafnodes: number;
  leafs?: { port: number }[] | null;
}

export function bootTiers(suite: DebianSuite): void {
  const version = fetchFromDebian(suite).version;

  describe(`nats-server ${version} (Debian ${suite})`, () => {
    test.each(TIER_EXAMPLES)(
      "the %s tier boots and forms its shape",
      async (tier, peels) => {
        const run = await boot(peels, suite);
        try {
          const t = run.topology;
          expect(t.tier).toBe(tier);
          for (const s of t.servers) {
            const base = `http://${s.host}:${String(s.ports.monitor)}`;
            const varz = await monitor<Varz>(base, "/varz");
            expect(varz.server_name).toBe(s.name);
            expect(varz.version).toBe(version);
            const cluster = t.clusters.find((c) => c.name === s.cluster);
            if (cluster !== undefined && cluster.servers.length > 1) {
              const routez = await monitor<Routez>(base, "/routez");
              const peers = new Set((routez.routes ?? []).map((r) => r.remote_name ?? r.remote_id));
              expect(peers.size).toBe(cluster.servers.length - 1);
            }
            if (s.jetstream) {
              const jsz = await monitor<Jsz>(base, "/jsz");
              if (cluster !== undefined && cluster.servers.length > 1) {
                expect(jsz.meta_cluster?.cluster_size).toBe(cluster.servers.length);
                expect(cluster.servers).toContain(jsz.meta_cluster?.leader);
              }
              expect(jsz.config?.domain).toBe(s.domain);
            }
            if (s.role === "leaf") expect((await monitor<Leafz>(base, "/leafz")).leafnodes).toBe(1);
          }
          // Each leaf connection lands on one server of its hub: count them over the hub's servers.
          for (const c of t.clusters) {
            const expected =
              t.servers.filter(
                (x) =>
                  x.role === "leaf" &&
                  t.leafSites.some((site) => site.name === x.site && site.region === x.region && site.hub === c.name),
              ).length +
              t.regionLinks
                .filter((l) => l.hub === c.region)
                .reduce((n, l) => n + (t.clusters.find((x) => x.region === l.region)?.servers.length ?? 0), 0) +
              (t.regionLinks.some((l) => l.region === c.region) ? c.servers.length : 0);
            let counted = 0;
            for (const name of c.servers) {
              const s = t.servers.find((x) => x.name === name);
              if (s !== undefined)
                counted += (await monitor<Leafz>(`http://${s.host}:${String(s.ports.monitor)}`, "/leafz")).leafnodes;
            }
            expect(counted).toBe(expected);
          }
          for (const c of t.clusters) {
            const planned = t.plan.kv.map((b) => [b.stream, b.replicas]);
            const seen = run.report.kv.filter((k) => k.region === c.region).map((k) => [k.stream, k.replicas]);
            expect(seen).toEqual(planned);
          }
        } finally {
          await run.stop();
        }
      },
      120_000,
    );

    test("on a single server a replica raise is clamped back to 1, and the bucket survives a restart", async () => {
      const stateDir = tempStateDir(`${suite}-clamp`);
      const natsServer = fetchFromDebian(suite);
      try {
        const run = await up({ peels: 50, stateDir, natsServer });
        const url = run.state.servers[0]?.clientUrl ?? "";
        let nc = await connectAdmin([url], clientAuth(run.state, "master"));
        const kv = await new Kvm(nc).open("facts");
        await kv.put("peel-1", "uname=Linux");
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info("KV_facts");
        // What a Zester master or an operator might do. 2.9 accepts it on a single server (and
        // would lose the bucket at the next restart); later releases refuse it.
        const raised = await jsm.streams.update("KV_facts", { ...info.config, num_replicas: 3 }).then(
          () => true,
          (error: unknown) => {
            expect(String(error)).toMatch(/replicas > 1 not supported in non-clustered mode/);
            return false;
          },
        );
        const changes = await reconcileKv(nc, run.topology.plan.kv, { clusterSize: 1 });
        expect(changes.find((c) => c.stream === "KV_facts")).toEqual(
          raised
            ? { stream: "KV_facts", action: "replicas-lowered", replicas: 1, from: 3 }
            : { stream: "KV_facts", action: "unchanged", replicas: 1 },
        );
        expect(raised).toBe(suite === "bookworm");
        await nc.close();

        await down(stateDir);
        await up({ peels: 50, stateDir, natsServer });
        nc = await connectAdmin([url], clientAuth(run.state, "master"));
        const again = await new Kvm(nc).open("facts");
        expect((await again.get("peel-1"))?.string()).toBe("uname=Linux");
        expect((await (await jetstreamManager(nc)).streams.info("KV_facts")).config.num_replicas).toBe(1);
        await nc.close();
      } finally {
        await down(stateDir, { purge: true });
      }
    }, 120_000);

    test("a region keeps serving its peels when its link to the hub region drops", async () => {
      const run = await boot(150_000, suite);
      try {
        const hubPorts = new Set(
          run.topology.servers.filter((s) => s.region === "region-0").map((s) => s.ports.leafnode),
        );
        const region1 = run.state.servers.filter((s) => s.region === "region-1");
        const hubLinks = async (): Promise<number> => {
          const links = await Promise.all(region1.map((s) => monitor<Leafz>(s.monitorUrl, "/leafz")));
          return links.flatMap((l) => l.leafs ?? []).filter((leaf) => hubPorts.has(leaf.port)).length;
        };
        expect(await hubLinks()).toBeGreaterThan(0);
        // The hub region goes away (crashes): region-1 loses its only inter-region link.
        for (const s of run.state.servers.filter((x) => x.region === "region-0"))
          if (s.pid !== undefined) process.kill(s.pid, "SIGKILL");
        const core = run.state.servers.find((s) => s.region === "region-1" && s.role === "core");
        await eventually("region-1 sees its link to region-0 down", async () => (await hubLinks()) === 0);
        const jsz = await monitor<Jsz>(core?.monitorUrl ?? "", "/jsz");
        expect(jsz.meta_cluster?.cluster_size).toBe(5);
        expect(jsz.meta_cluster?.leader).toMatch(/^region-1-core-/);
        const nc = await connectAdmin([core?.clientUrl ?? ""], clientAuth(run.state, "master"));
        const kv = await new Kvm(nc).open("facts");
        await kv.put("peel-42", "os=debian");
        expect((await kv.get("peel-42"))?.string()).toBe("os=debian");
        await nc.close();
      } finally {
        await run.stop();
      }
    }, 120_000);

    test("a client connected to a leaf node writes into the core's KV", async () => {
      const run = await boot(60_000, suite);
      try {
        const core = run.state.servers.find((s) => s.role === "core");
        // A peel behind a leaf server (the site's link carries what a peel may do, nothing more).
        const session = peelSession(run);
        const onLeaf = await session.peel("peel-1", "leaf");
        // Behind a leaf, JetStream answers only under its domain's API prefix.
        await (await new Kvm(jetstream(onLeaf.nc, onLeaf.js())).open("facts")).put("peel-1", "os=debian");
        await session.close();
        const onCore = await connectAdmin([core?.clientUrl ?? ""], clientAuth(run.state, "master"));
        expect((await (await new Kvm(onCore).open("facts")).get("peel-1"))?.string()).toBe("os=debian");
        await onCore.close();
      } finally {
        await run.stop();
      }
    }, 120_000);
  });
}
