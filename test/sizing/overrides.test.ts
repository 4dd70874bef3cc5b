import { plan, SpecError, type SizingSpecInput } from "../../sizing";

function problems(input: SizingSpecInput): string[] {
  try {
    plan(input);
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map((p) => `${p.path.join(".")}: ${p.message}`);
    throw error;
  }
  return [];
}

describe("overrides", () => {
  test("a bucket's replicas can be lowered on a cluster, and the plan lists what was overridden", () => {
    const p = plan({ peels: 2_000, overrides: { kv: { basket: { replicas: 1 } } } });
    expect(p.kv.find((b) => b.name === "basket")?.replicas).toBe(1);
    expect(p.kv.find((b) => b.name === "facts")?.replicas).toBe(3);
    expect(p.overrides).toEqual(["overrides.kv.basket.replicas"]);
  });

  test("replicas above the cluster size are refused with the reason", () => {
    expect(problems({ peels: 2_000, overrides: { kv: { facts: { replicas: 5 } } } })).toEqual([
      expect.stringMatching(/^overrides\.kv\.facts\.replicas: 5 is more than the 3 servers/),
    ]);
  });

  test("replicas above 1 on a single tier are refused, saying the bucket would be lost after a restart", () => {
    expect(problems({ peels: 500, overrides: { kv: { jobs: { replicas: 3 } } } })[0]).toMatch(/single server.*gone/);
  });

  test("an unknown bucket or setting is refused, never dropped", () => {
    expect(problems({ peels: 500, overrides: { kv: { nope: { replicas: 1 } } } })[0]).toMatch(
      /^overrides\.kv\.nope: must be one of the planned buckets/,
    );
    const unknown = { peels: 500, overrides: { natsServer: { maxConections: 5 } } } as unknown as SizingSpecInput;
    expect(problems(unknown)[0]).toMatch(/^overrides\.natsServer\.maxConections: is not a setting/);
  });

  test("server memory overrides flow into JetStream's memory store and are held to the guide's floor", () => {
    const p = plan({ peels: 2_000, overrides: { server: { memoryMiB: 16_384 } } });
    expect(p.natsServer.jetstream.maxMemStoreBytes).toBe(8 * 1024 ** 3);
    expect(problems({ peels: 20_000, overrides: { server: { memoryMiB: 6_144 } } })[0]).toMatch(/at least 4 GiB/);
  });

  test("JetStream stores beyond RAM or disk, payloads above max_pending and LimitNOFILE not above max_connections are refused", () => {
    expect(problems({ peels: 2_000, overrides: { natsServer: { maxMemStoreBytes: 9 * 1024 ** 3 } } })[0]).toMatch(
      /more than the server's 8 GiB RAM/,
    );
    expect(problems({ peels: 2_000, overrides: { natsServer: { maxFileStoreBytes: 300 * 1024 ** 3 } } })[0]).toMatch(
      /fill the disk/,
    );
    expect(problems({ peels: 2_000, overrides: { natsServer: { maxPayloadBytes: 65 * 1024 ** 2 } } })[0]).toMatch(
      /max_pending/,
    );
    expect(problems({ peels: 2_000, overrides: { os: { limitNofile: 4_000 } } })[0]).toMatch(
      /^overrides\.os\.limitNofile: 4,000 is not above max_connections \(4,000\)/,
    );
  });

  test("lame duck shorter than NATS's 30 s minimum is refused", () => {
    expect(problems({ peels: 2_000, overrides: { natsServer: { lameDuckDurationSeconds: 10 } } })[0]).toMatch(
      /lameDuckDurationSeconds: must be whole seconds from 30/,
    );
  });

  test("a peel count out of range names the field and what is accepted", () => {
    expect(problems({ peels: -1 })).toEqual(["peels: must be a whole number from 0 to 1,000,000"]);
    expect(problems({ peels: 2.5 })).toEqual(["peels: must be a whole number from 0 to 1,000,000"]);
    expect(problems({ peels: 1_000_001 })).toEqual(["peels: must be a whole number from 0 to 1,000,000"]);
  });
});
