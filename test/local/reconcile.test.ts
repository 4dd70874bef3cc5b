/** @servers */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { reconcileKv, startDriftCorrection, type BucketChange } from "../../jetstream/reconcile";
import { connectCluster } from "../../local/kv";
import { connectAdmin } from "../../jetstream/connect";
import { clientAuth } from "../../local/identities";
import { boot } from "../helpers/local";

describe("KV reconcile on a 3-node cluster (nats-server from Debian sid)", () => {
  test("idempotent; a replica drop (a master recreating buckets at R1) is raised back in place, data kept", async () => {
    const run = await boot(2_000, "sid");
    const [cluster] = run.topology.clusters;
    if (cluster === undefined) {
      await run.stop();
      throw new Error("a 2,000-peel topology has a cluster");
    }
    const nc = await connectCluster(run.topology, cluster, run.state);
    const master = await connectAdmin(
      run.state.servers.map((s) => s.clientUrl),
      clientAuth(run.state, "master"),
    );
    try {
      const kv = run.topology.plan.kv;
      expect((await reconcileKv(nc, kv, { clusterSize: 3 })).every((c) => c.action === "unchanged")).toBe(true);

      // The reconcile identity may not write into a bucket: the master writes.
      const facts = await new Kvm(master).open("facts");
      await facts.put("peel-7", "cpus=4");
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info("KV_facts");
      await jsm.streams.update("KV_facts", { ...info.config, num_replicas: 1 });
      expect((await jsm.streams.info("KV_facts")).config.num_replicas).toBe(1);

      const seen: BucketChange[] = [];
      const stop = startDriftCorrection(nc, kv, {
        clusterSize: 3,
        intervalMs: 200,
        onChange: (cs) => seen.push(...cs),
      });
      try {
        for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      } finally {
        stop();
      }
      expect(seen).toEqual([{ stream: "KV_facts", action: "replicas-raised", replicas: 3, from: 1 }]);
      const after = await jsm.streams.info("KV_facts");
      expect(after.config.num_replicas).toBe(3);
      expect(after.created).toBe(info.created);
      expect((await facts.get("peel-7"))?.string()).toBe("cpus=4");
    } finally {
      await nc.close();
      await master.close();
      await run.stop();
    }
  }, 120_000);
});
