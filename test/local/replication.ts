/**
 * Cross-region replication on a real 2-region supercluster: region-0's facts, copied into
 * region-1 as `facts-from-region-0` by the reconcile job, through a region cut. Shared by one
 * test file per nats-server version.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { performance } from "node:perf_hooks";
import { rmSync } from "node:fs";
import { connectAdmin } from "../../jetstream/connect";
import { LinkCut } from "../../load/link-cut";
import { reconfigure } from "../../load/servers";
import { clientAuth } from "../../local/identities";
import { reconcileLocal } from "../../local/kv";
import { fetchFromDebian, type DebianSuite } from "../../local/nats-binary";
import { down, up } from "../../local/runner";
import type { LocalSizing } from "../../local/state";
import { replicaBucketName } from "../../sizing/replication";
import type { ConfBlock } from "../../topology/render/nats-conf-format";
import { eventually, monitor, tempStateDir } from "../helpers/local";

interface Leafz {
  leafs?: { port: number }[] | null;
}

/** region-0 copies its facts to region-1; job-returns gives up room for the copy in region-1's store. */
export const REPLICATING: LocalSizing = {
  regions: [{ name: "region-0", replicate: [{ bucket: "facts", to: "region-1" }] }, { name: "region-1" }],
  overrides: { kv: { "job-returns": { maxBytes: 1024 ** 3 } } },
};
const COPY = replicaBucketName("facts", "region-0");

/** Every key of `keys` reads back from `kv` with the value it was written with. */
async function holdsAll(kv: KV, keys: Map<string, string>): Promise<boolean> {
  for (const [key, value] of keys) if ((await kv.get(key))?.string() !== value) return false;
  return true;
}

export function replicationAcrossRegions(suite: DebianSuite): void {
  const version = fetchFromDebian(suite).version;

  test(`nats-server ${version} (Debian ${suite}): region-1 reads region-0's facts from its copy, and every write acknowledged during a region cut arrives after it`, async () => {
    const stateDir = tempStateDir(`${suite}-replication`);
    const relays: LinkCut[] = [];
    const connections: NatsConnection[] = [];
    try {
      const run = await up({
        peels: 150_000,
        stateDir,
        natsServer: fetchFromDebian(suite),
        healthTimeoutMs: 60_000,
        sizing: REPLICATING,
      });
      const t = run.topology;
      // The reconcile job created the copy in region-1, at the bucket's replicas, and nothing in region-0.
      expect(run.kvChanges["region-1"]?.find((c) => c.stream === `KV_${COPY}`)).toEqual({
        stream: `KV_${COPY}`,
        action: "created",
        replicas: 3,
      });
      expect(run.kvChanges["region-0"]?.some((c) => c.stream.includes("-from-"))).toBe(false);
      // Idempotent: a second run changes nothing, the copy included.
      const again = await reconcileLocal(t, run.state);
      expect(again["region-1"]?.find((c) => c.stream === `KV_${COPY}`)?.action).toBe("unchanged");
      expect(Object.values(again).flat().length).toBeGreaterThan(0);
      expect(
        Object.values(again)
          .flat()
          .filter((c) => c.action !== "unchanged"),
      ).toEqual([]);

      // Every hub core behind a relay that can be cut. region-1's core reaches the hub only
      // through them: its leaf remotes list the relays, and the hub advertises the relays as its
      // leafnode URLs (2.9.10 still hands a remote a hub's own listen address with no_advertise
      // set, measured: the "cut" region reconnected around the relays within seconds).
      const hub = t.clusters.find((c) => c.region === "region-0");
      const relayOf = new Map<string, LinkCut>();
      for (const name of hub?.servers ?? []) {
        const port = t.servers.find((s) => s.name === name)?.ports.leafnode;
        if (port === undefined) throw new Error(`${name} has no leafnode port`);
        const relay = await LinkCut.open(port);
        relays.push(relay);
        relayOf.set(name, relay);
      }
      const relayUrl = (relay: LinkCut): string => `127.0.0.1:${String(relay.port)}`;
      await reconfigure(
        stateDir,
        "a region cut",
        (conf, server) => {
          const leafnodes = conf.leafnodes as ConfBlock | undefined;
          if (leafnodes === undefined || server.role !== "core") return;
          const relay = relayOf.get(server.name);
          if (relay !== undefined) {
            leafnodes.advertise = relayUrl(relay);
            leafnodes.no_advertise = true;
          }
          const remotes = leafnodes.remotes as ConfBlock[] | undefined;
          if (server.region === "region-1" && remotes?.[0] !== undefined)
            leafnodes.remotes = [{ ...remotes[0], urls: relays.map((r) => `nats-leaf://${relayUrl(r)}`) }];
        },
        60_000,
        // The rewiring is set-up, not what is measured: no ten-second lame duck per server.
        "SIGTERM",
      );
      // Any connection from region-1's core to the hub: through a relay, or around them.
      const hubPorts = new Set([
        ...relays.map((r) => r.port),
        ...t.servers.flatMap((s) => (s.region === "region-0" && s.role === "core" ? [s.ports.leafnode] : [])),
      ]);
      const region1Cores = run.state.servers.filter((s) => s.region === "region-1" && s.role === "core");
      const links = async (): Promise<number> => {
        const leafz = await Promise.all(region1Cores.map((s) => monitor<Leafz>(s.monitorUrl, "/leafz")));
        return leafz.flatMap((l) => l.leafs ?? []).filter((leaf) => hubPorts.has(leaf.port)).length;
      };
      await eventually("region-1's core links to region-0", async () => (await links()) > 0);

      const core = (region: string) => t.servers.find((s) => s.region === region && s.role === "core");
      const master = async (region: string): Promise<NatsConnection> => {
        const s = core(region);
        if (s === undefined) throw new Error(`no core server in ${region}`);
        const nc = await connectAdmin([`nats://${s.host}:${String(s.ports.client)}`], clientAuth(run.state, "master"));
        connections.push(nc);
        return nc;
      };
      const nc0 = await master("region-0");
      const facts0 = await new Kvm(nc0).open("facts");
      const nc1 = await master("region-1");
      const facts1 = await new Kvm(nc1).open("facts");
      // nats.js's `open` binds without reading the stream, so it would look for `$KV.<copy>.*`;
      // `create` of a bucket that exists reads its config and follows the mirror's subjects
      // (`$KV.facts.*`), as nats.go's KeyValue() does on open.
      const copy = await new Kvm(nc1).create(COPY);
      const copyStream = await (await jetstreamManager(nc1)).streams.info(`KV_${COPY}`);
      expect(copyStream.config.subjects).toBeUndefined();
      expect(copyStream.config.mirror).toEqual({
        name: "KV_facts",
        external: { api: "$JS.zester.API", deliver: "" },
      });

      // Linked: region-0's writes show up in region-1's copy; region-1's own facts stay its own.
      const before = new Map<string, string>();
      for (let i = 0; i < 50; i++) {
        before.set(`peel-${i}`, `os=debian-${i}`);
        await facts0.put(`peel-${i}`, `os=debian-${i}`);
      }
      await facts1.put("peel-r1", "os=region-1");
      await eventually("region-1's copy holds region-0's facts", () => holdsAll(copy, before));
      expect(await facts1.get("peel-0")).toBeNull();
      expect(await copy.get("peel-r1")).toBeNull();

      // The cut: region-0 keeps taking writes; region-1 keeps serving the copy as of the cut.
      for (const relay of relays) relay.cut();
      await eventually("region-1 sees its link to region-0 down", async () => (await links()) === 0);
      const during = new Map<string, string>();
      const cutUntil = performance.now() + 3_000;
      for (let i = 0; performance.now() < cutUntil; i++) {
        // Only what region-0 acknowledged counts (a put resolves with its sequence once stored).
        const seq = await facts0.put(`cut-${i}`, `written-during-cut-${i}`);
        if (seq > 0) during.set(`cut-${i}`, `written-during-cut-${i}`);
      }
      expect(during.size).toBeGreaterThan(0);
      expect(await holdsAll(copy, before)).toBe(true);
      expect(await copy.get("cut-0")).toBeNull();

      // Healed: the copy catches up to the source's last sequence (a mirror keeps the source's
      // sequences), and then holds every write acknowledged during the cut.
      const sourceLast = (await (await jetstreamManager(nc0)).streams.info("KV_facts")).state.last_seq;
      const jsm1 = await jetstreamManager(nc1);
      const healedAt = performance.now();
      for (const relay of relays) relay.heal();
      await eventually(
        "region-1's copy reaches region-0's last sequence",
        async () => (await jsm1.streams.info(`KV_${COPY}`)).state.last_seq >= sourceLast,
        90_000,
      );
      const catchUpMs = performance.now() - healedAt;
      expect(await holdsAll(copy, during)).toBe(true);
      console.log(
        `nats-server ${version}: ${String(during.size)} facts written in region-0 during a 3 s region cut reached region-1's ${COPY} ${(catchUpMs / 1000).toFixed(1)} s after the link was restored`,
      );
      expect(await holdsAll(copy, before)).toBe(true);
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
      await Promise.all(relays.map((r) => r.close()));
      await down(stateDir, { purge: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
}
