import { plan } from "../../sizing";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("nats-server tuning", () => {
  test("10,000 peels reproduce the guide's example: max_connections 20000, 8 MB payload, 10 s deadline", () => {
    const n = plan({ peels: 10_000 }).natsServer;
    expect(n.maxConnections).toBe(20_000);
    expect(n.maxPayloadBytes).toBe(8 * MiB);
    expect(n.writeDeadlineSeconds).toBe(10);
    expect(n.jetstream.maxAckPending).toBe(50_000);
    expect(n.jetstream.duplicateWindowSeconds).toBe(600);
  });

  test("below 10,000 peels payload and deadline stay NATS's defaults, marked as such", () => {
    const n = plan({ peels: 9_999 }).natsServer;
    expect(n.maxPayloadBytes).toBe(1 * MiB);
    expect(n.writeDeadlineSeconds).toBe(2);
    expect(n.provenance.maxPayloadBytes?.source).toBe("nats-default");
    expect(n.jetstream.maxAckPending).toBeUndefined();
    expect(n.jetstream.duplicateWindowSeconds).toBeUndefined();
  });

  test("max_connections below 10k departs from NATS's default and says why", () => {
    const n = plan({ peels: 2_000 }).natsServer;
    expect(n.maxConnections).toBe(4_000);
    expect(n.provenance.maxConnections?.source).toBe("derived");
    expect(n.provenance.maxConnections?.why).toMatch(/LimitNOFILE/);
  });

  test("JetStream memory and file store are explicit, below RAM and disk, and meet the guide's floors", () => {
    for (const peels of [50, 500, 5_000, 25_000, 75_000, 250_000]) {
      const p = plan({ peels });
      const js = p.natsServer.jetstream;
      expect(js.maxMemStoreBytes).toBeLessThan(p.server.memoryMiB * MiB);
      expect(js.maxFileStoreBytes).toBeLessThan(p.server.jetstreamDiskGiB * GiB);
      if (peels >= 10_000) expect(js.maxMemStoreBytes).toBeGreaterThanOrEqual(4 * GiB);
      if (peels >= 50_000) expect(js.maxMemStoreBytes).toBeGreaterThanOrEqual(16 * GiB);
    }
  });

  test("lame duck: 30 s on a single server, NATS's 2 min on clusters; never below 30 s", () => {
    expect(plan({ peels: 10 }).natsServer.lameDuckDurationSeconds).toBe(30);
    expect(plan({ peels: 5_000 }).natsServer.lameDuckDurationSeconds).toBe(120);
  });

  test("a leaf tier's core counts the peels behind its leaf sites, as they may fall back to it", () => {
    const p = plan({ peels: 60_000 });
    expect(p.natsServer.expectedPeelsPerServer).toBe(60_000);
    expect(p.natsServer.maxConnections).toBe(120_000);
  });
});

describe("client tuning", () => {
  test("peels wait 5 s between reconnects from 50,000 on; masters keep 2 s", () => {
    expect(plan({ peels: 49_999 }).client.peel.reconnectWaitSeconds).toBe(2);
    const p = plan({ peels: 50_000 });
    expect(p.client.peel.reconnectWaitSeconds).toBe(5);
    expect(p.client.master.reconnectWaitSeconds).toBe(2);
  });

  test("a single tier's clients reconnect every 0.5 s (+0.25 s jitter): their one server's restart is a wait for it", () => {
    for (const peels of [50, 999]) {
      const c = plan({ peels }).client;
      for (const who of [c.peel, c.master])
        expect(who).toMatchObject({ reconnectWaitSeconds: 0.5, reconnectJitterSeconds: 0.25 });
      expect(c.provenance.reconnectWaitSeconds?.source).toBe("derived");
    }
    const cluster = plan({ peels: 1_000 }).client;
    expect(cluster.peel).toMatchObject({ reconnectWaitSeconds: 2, reconnectJitterSeconds: 1 });
  });

  test("every write is retried with its Nats-Msg-Id: a first attempt waits 0.25 s for its ack, six attempts in all", () => {
    for (const peels of [50, 5_000, 500_000]) {
      const c = plan({ peels }).client;
      for (const who of [c.peel, c.master]) expect(who).toMatchObject({ ackTimeoutSeconds: 0.25, publishAttempts: 6 });
      expect(c.provenance.ackTimeoutSeconds?.source).toBe("derived");
      expect(c.provenance.publishAttempts?.source).toBe("derived");
    }
    expect(
      plan({ peels: 5_000, overrides: { client: { peel: { ackTimeoutSeconds: 1 } } } }).client.peel.ackTimeoutSeconds,
    ).toBe(1);
  });

  test("peels get a larger reconnect buffer from 100,000 on", () => {
    expect(plan({ peels: 99_999 }).client.peel.reconnectBufSizeBytes).toBe(8 * MiB);
    expect(plan({ peels: 100_000 }).client.peel.reconnectBufSizeBytes).toBeGreaterThan(8 * MiB);
  });

  test("MaxReconnects is -1 for everyone, always", () => {
    for (const peels of [0, 5_000, 500_000]) {
      const c = plan({ peels }).client;
      expect([c.master.maxReconnects, c.peel.maxReconnects]).toEqual([-1, -1]);
    }
  });
});

describe("OS tuning", () => {
  test("the guide's sysctl set starts at 10,000 peels", () => {
    expect(plan({ peels: 9_999 }).os.sysctl).toEqual({});
    const sysctl = plan({ peels: 10_000 }).os.sysctl;
    expect(sysctl["net.core.somaxconn"]).toBe("65535");
    expect(sysctl["fs.file-max"]).toBe("2097152");
    expect(Object.keys(sysctl)).toHaveLength(6);
  });

  test("LimitNOFILE is the guide's 65536 at 1,000 peels", () => {
    const os = plan({ peels: 1_000 }).os;
    expect(os.limitNofile).toBe(65_536);
    expect(os.provenance.limitNofile?.source).toBe("guide");
  });

  test("at 50,000+ peels 65536 files are not enough: LimitNOFILE is sized above max_connections and says so", () => {
    const p = plan({ peels: 50_000 });
    expect(p.os.limitNofile).toBeGreaterThan(65_536);
    expect(p.os.limitNofile).toBeGreaterThan(p.natsServer.maxConnections);
    expect(p.os.provenance.limitNofile?.why).toMatch(/not enough/);
  });
});

describe("KV plan", () => {
  test("single tiers keep every bucket at replicas 1", () => {
    for (const peels of [0, 999]) expect(new Set(plan({ peels }).kv.map((b) => b.replicas))).toEqual(new Set([1]));
  });

  test("cluster tiers raise every bucket and the job-events stream to replicas 3", () => {
    for (const peels of [1_000, 10_000, 200_000])
      expect(new Set(plan({ peels }).kv.map((b) => b.replicas))).toEqual(new Set([3]));
  });

  test("buckets keep Zester's defaults: enroll-challenges in memory, jobs 10 revisions for 7 days", () => {
    const kv = plan({ peels: 2_000 }).kv;
    const byName = Object.fromEntries(kv.map((b) => [b.name, b]));
    expect(byName["enroll-challenges"]).toMatchObject({
      storage: "memory",
      ttlSeconds: 300,
      stream: "KV_enroll-challenges",
    });
    expect(byName.jobs).toMatchObject({ history: 10, ttlSeconds: 7 * 86_400, storage: "file" });
    expect(byName["job-events"]).toMatchObject({ kind: "stream", stream: "job-events" });
    expect(kv.filter((b) => b.kind === "kv")).toHaveLength(13);
  });
});
