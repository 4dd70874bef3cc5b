import { clusterJob, ReconcileJobSchema } from "../../jetstream/cluster-job";
import { replicaStreamConfig } from "../../jetstream/replicas";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology/build";
import { rolePermissions } from "../../topology/permissions";

/** Room for a copy of facts in the keeping region's store (job-returns gives up most of its share). */
const ROOM = { kv: { "job-returns": { maxBytes: 1024 ** 3 } } };
const replicating = build(
  plan({
    peels: 150_000,
    regions: [{ name: "eu", replicate: [{ bucket: "facts", to: "us" }] }, { name: "us" }],
    overrides: ROOM,
  }),
  standardAddressing("zester.internal"),
);
const auth = { ca: "CA", credentials: { creds: "CREDS" } };

describe("cross-region replication in the topology", () => {
  test("the reconcile identity may look at, create and update the copy's stream: nothing else is added, no wildcard", () => {
    const without = rolePermissions(
      build(
        plan({
          peels: 150_000,
          regions: [{ name: "eu" }, { name: "us" }],
          overrides: ROOM,
        }),
        standardAddressing("zester.internal"),
      ),
    ).reconcile.publish.allow;
    const withCopy = rolePermissions(replicating).reconcile.publish.allow;
    expect(withCopy.filter((s) => !without.includes(s))).toEqual([
      "$JS.API.STREAM.INFO.KV_facts-from-eu",
      "$JS.API.STREAM.CREATE.KV_facts-from-eu",
      "$JS.API.STREAM.UPDATE.KV_facts-from-eu",
    ]);
    expect(withCopy.some((s) => s.includes(">") || s.includes("*"))).toBe(false);
  });

  test("the job of the region that keeps the copy carries it (and reads back); the other region's job has none", () => {
    const [eu, us] = replicating.clusters;
    if (eu === undefined || us === undefined) throw new Error("two regions, two clusters");
    const usJob = clusterJob(replicating, us, auth);
    expect(usJob.replicas?.map((r) => [r.stream, r.mirror.domain, r.mirror.stream])).toEqual([
      ["KV_facts-from-eu", "zester", "KV_facts"],
    ]);
    expect(ReconcileJobSchema.parse(JSON.parse(JSON.stringify(usJob)))).toEqual(usJob);
    expect("replicas" in clusterJob(replicating, eu, auth)).toBe(false);
  });

  test("the copy's stream mirrors the source through its domain's API, as a KV bucket with the source's limits, and never answers for its source's name", () => {
    const copy = replicating.plan.regions[1]?.replicas?.[0];
    if (copy === undefined) throw new Error("us keeps a copy");
    const config = replicaStreamConfig(copy, 3);
    expect(config).toMatchObject({
      name: "KV_facts-from-eu",
      mirror: { name: "KV_facts", external: { api: "$JS.zester.API", deliver: "" } },
      num_replicas: 3,
      max_msgs_per_subject: copy.history,
      max_bytes: copy.maxBytes,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
      mirror_direct: false,
    });
    expect(config.subjects).toBeUndefined();
  });
});
