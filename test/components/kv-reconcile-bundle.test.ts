/**
 * The bundle the targets deploy as their KV reconcile (shipped prebuilt in the package), loaded
 * as the function runtime would load it and run against a real 3-node cluster (Debian sid's
 * nats-server).
 *
 * @servers
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { clusterJob } from "../../jetstream/cluster-job";
import { JOB_ENV } from "../../jetstream/cluster-job";
import { clientAuth } from "../../local/identities";
import { connectCluster } from "../../local/kv";
import { shippedReconcileCode } from "../../components/reconcile-code";
import { boot } from "../helpers/local";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the build script is CommonJS
const { BUNDLE, bundleText } = require("../../scripts/bin/bundle.cjs") as { BUNDLE: string; bundleText: () => string };

interface Bundle {
  handler: () => Promise<{
    changed: { stream: string; action: string; replicas: number; from?: number }[];
    unchanged: number;
  }>;
}

test("the deployed bundle raises a dropped replica count back to the plan, and is a no-op after", async () => {
  // What the package ships is what the source builds, and building is deterministic: an unchanged
  // source is no diff on `pulumi up`.
  const code = readFileSync(BUNDLE, "utf8");
  expect(bundleText()).toBe(code);
  expect(shippedReconcileCode()).toBe(code);
  const run = await boot(2_000, "sid");
  const [cluster] = run.topology.clusters;
  if (cluster === undefined) {
    await run.stop();
    throw new Error("a 2,000-peel topology has a cluster");
  }
  const nc = await connectCluster(run.topology, cluster, run.state);
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-bundle-"));
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("KV_facts");
    await jsm.streams.update("KV_facts", { ...info.config, num_replicas: 1 });

    writeFileSync(path.join(dir, "index.js"), code);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as the runtime loads it
    const bundle = require(path.join(dir, "index.js")) as Bundle;
    // The job exactly as the AWS and Kubernetes targets hand it over.
    const job = clusterJob(run.topology, cluster, {
      ca: run.state.auth.ca,
      credentials: { creds: clientAuth(run.state, "reconcile").creds },
    });
    expect(job.clusterSize).toBe(3);
    process.env[JOB_ENV] = JSON.stringify(job);
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const first = await bundle.handler();
      expect(first.changed).toEqual([{ stream: "KV_facts", action: "replicas-raised", replicas: 3, from: 1 }]);
      expect((await jsm.streams.info("KV_facts")).config.num_replicas).toBe(3);
      const second = await bundle.handler();
      expect(second).toEqual({ changed: [], unchanged: run.topology.plan.kv.length });
      expect(log).toHaveBeenCalledTimes(2);
    } finally {
      log.mockRestore();
      Reflect.deleteProperty(process.env, JOB_ENV);
    }
  } finally {
    await nc.close();
    await run.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
