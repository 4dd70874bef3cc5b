/** @servers */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../../jetstream/connect";
import { peelAddresses, peelId } from "../../load/addresses";
import { runFleet } from "../../load/fleet";
import { peelIdentity } from "../../load/identity";
import { WriteLedger } from "../../load/ledger";
import { SimPeel } from "../../load/peel";
import { countLost } from "../../load/readback";
import { trafficModel } from "../../load/traffic";
import { clientAuth } from "../../local/identities";
import { boot } from "../helpers/local";
import { runScript } from "../helpers/run";

describe("the fleet simulator on a 3-node tier (nats-server from Debian sid)", () => {
  let run: Awaited<ReturnType<typeof boot>>;
  let nc: NatsConnection;

  beforeAll(async () => {
    run = await boot(2_000, "sid");
    nc = await connectAdmin(
      run.state.servers.map((s) => s.clientUrl),
      clientAuth(run.state, "master"),
    );
  }, 120_000);

  afterAll(async () => {
    await nc.close();
    await run.stop();
  });

  const fleet = (afterTraffic?: () => Promise<void>) =>
    runFleet({
      stateDir: run.stateDir,
      peels: 120,
      peelsPerProcess: 60,
      durationSeconds: 3,
      traffic: trafficModel(),
      ...(afterTraffic === undefined ? {} : { afterTraffic }),
    });

  test("every peel holds a connection, enrolls, heartbeats, and every acknowledged write reads back", async () => {
    const report = await fleet();
    expect(report.connected).toBe(120);
    expect(report.processes).toBe(2);
    expect(report.acked).toBeGreaterThanOrEqual(120);
    expect(report.lost).toBe(0);
    expect(report.readBack.found).toBe(report.acked);
    expect(report.p50Ms).not.toBeNull();
    expect(report.p99Ms).toBeGreaterThanOrEqual(report.p50Ms ?? Infinity);
    expect(report.heartbeatsReceived).toBeGreaterThan(0);
    expect(report.servers.map((s) => s.name)).toEqual(["core-0", "core-1", "core-2"]);
    expect(report.servers.every((s) => s.samples > 0 && s.memMiBMax > 0)).toBe(true);
    // What a peel wrote through its domain's API prefix is where nats.js's KV client finds it.
    const domain = run.topology.servers[0]?.domain;
    const enrollments = await new Kvm(jetstream(nc, { domain })).open("enrollments");
    expect((await enrollments.get(peelId(1)))?.length).toBe(report.traffic.enrollmentBytes);
  }, 120_000);

  test("acknowledged writes removed behind its back are counted lost", async () => {
    const report = await fleet(async () => {
      await (await jetstreamManager(nc)).streams.purge("KV_enrollments");
    });
    // Each peel enrolled once, acknowledged; the purge took every enrollment.
    expect(report.connected).toBe(120);
    expect(report.lost).toBe(120);
    expect(report.readBack.found).toBe(report.acked - 120);
  }, 120_000);

  test("older revisions of a key pushed out of the bucket's history are superseded, not lost", async () => {
    const ledger = new WriteLedger();
    const address = peelAddresses(run.topology)[0];
    if (address === undefined) throw new Error("no peel home");
    const peel = new SimPeel(
      "sim-history",
      address,
      peelIdentity(run.state, "sim-history"),
      run.topology.plan.client.peel,
      ledger,
      {
        writeTimeoutMs: 5_000,
      },
    );
    await peel.connect();
    try {
      for (let i = 0; i < 7; i++) expect(await peel.put("facts", "sim-history", 100)).toBe(true);
    } finally {
      await peel.close();
    }
    const report = await countLost(ledger.acked, () => nc);
    // facts keeps 5 revisions a key (guide §7).
    expect(report).toEqual({ checked: 7, found: 5, superseded: 2, expired: 0, lost: 0, examples: [] });
  }, 60_000);

  test("`npm run -s fleet -- --json` prints the contract's fields", () => {
    const r = runScript("fleet", [
      "--peels",
      "40",
      "--peels-per-process",
      "20",
      "--duration",
      "2",
      "--json",
      "--state-dir",
      run.stateDir,
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ["peels", "durationSeconds", "connected", "acked", "lost", "p50Ms", "p99Ms", "servers"])
      expect(report).toHaveProperty(key);
    expect(report).toMatchObject({ peels: 40, durationSeconds: 2, connected: 40, lost: 0 });
    expect(report.servers).toHaveLength(3);
  }, 120_000);
});
