/**
 * The reconcile job carrying out a tier transition's data-moving phase on a real nats-server, as
 * a cloud target's job runs it: single-small → single (50 → 500 peels), whose move phase sets the
 * streams' limits. The server runs the single tier's config (as after the expand phase, which
 * restarted it) while its streams still have the single-small tier's limits (the job kept that
 * tier's buckets until now). The report is written only once every stream is as the wanted tier plans it,
 * and not at all when lowering a limit would drop messages.
 *
 * @servers
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { TransitionJob } from "../../jetstream/cluster-job";
import { connectAdmin } from "../../jetstream/connect";
import { runReconcileJob } from "../../jetstream/reconcile-job";
import { clientAuth } from "../../local/identities";
import { reconcileJob } from "../../local/kv";
import { plan } from "../../sizing";
import type { TransitionReport } from "../../change/phased";
import { boot, SUITES } from "../helpers/local";

const TRANSITION: TransitionJob = {
  from: { tier: "single-small", peels: 50 },
  to: { tier: "single", peels: 500 },
  phase: "move",
  steps: [{ id: "02-set-limits", kind: "set-limits" }],
  report: { configMap: "zester-transition", namespace: "zester" },
};

test.each(SUITES)(
  "%s: 50 → 500: the job sets the single tier's limits, then reports the step done; a stream over its new limit stops it before anything is written",
  async (suite) => {
    const run = await boot(500, suite);
    try {
      const cluster = run.topology.clusters[0];
      if (cluster === undefined) throw new Error("a topology has a core cluster");
      const [before, wanted] = [plan({ peels: 50 }).kv, plan({ peels: 500 }).kv];
      const expanded = { ...reconcileJob(run.topology, cluster, run.state), buckets: before };
      await runReconcileJob(expanded);
      const job = { ...expanded, buckets: wanted, transition: TRANSITION };
      const written: { report: TransitionReport; where: TransitionJob["report"] }[] = [];
      const write = (report: TransitionReport, where: TransitionJob["report"]) => {
        written.push({ report, where });
        return Promise.resolve();
      };

      await runReconcileJob(job, write, 30_000);
      expect(written).toEqual([
        {
          report: {
            version: 1,
            from: TRANSITION.from,
            to: TRANSITION.to,
            phase: "move",
            done: ["02-set-limits"],
            at: expect.any(String) as string,
          },
          where: TRANSITION.report,
        },
      ]);
      const nc = await connectAdmin(job.servers, clientAuth(run.state, "reconcile"));
      try {
        const jsm = await jetstreamManager(nc);
        expect(before.some((b, i) => b.maxBytes !== wanted[i]?.maxBytes)).toBe(true);
        for (const bucket of wanted)
          expect([bucket.stream, (await jsm.streams.info(bucket.stream)).config.max_bytes]).toEqual([
            bucket.stream,
            bucket.maxBytes,
          ]);

        // A fact written, then a transition whose limit for that bucket is below what it holds.
        const facts = wanted.find((b) => b.name === "facts");
        if (facts === undefined) throw new Error("the plan has a facts bucket");
        // Written as the master (the reconcile identity manages streams, it writes no entries).
        const master = await connectAdmin(job.servers, clientAuth(run.state, "master"));
        try {
          const kv = await new Kvm(master).open("facts");
          await kv.put("minion-1", "x".repeat(4_096));
          const held = (await jsm.streams.info(facts.stream)).state.bytes;
          const tight = { ...job, buckets: wanted.map((b) => (b === facts ? { ...b, maxBytes: held - 1 } : b)) };
          await expect(runReconcileJob(tight, write, 30_000)).rejects.toThrow(
            new RegExp(
              `^the streams do not fit the single tier's store; nothing was lowered and no report written:\\n- ${facts.stream} holds ${String(held)} bytes`,
            ),
          );
          expect(written).toHaveLength(1);
          expect((await jsm.streams.info(facts.stream)).config.max_bytes).toBe(facts.maxBytes);
          expect((await kv.get("minion-1"))?.string()).toBe("x".repeat(4_096));
        } finally {
          await master.close();
        }
      } finally {
        await nc.close();
      }
    } finally {
      await run.stop();
    }
  },
  120_000,
);
