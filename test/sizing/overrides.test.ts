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
  test("a bucket's replicas can be lowered on a cluster once confirmed, and the plan lists what was overridden", () => {
    const p = plan({
      peels: 2_000,
      overrides: { kv: { basket: { replicas: 1 } }, confirmBelowPlan: ["kv.basket.replicas"] },
    });
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

describe("overrides below what the plan needs", () => {
  test("max_connections 10 at 2,000 peels is refused, saying how many peels it would refuse and how to confirm", () => {
    expect(problems({ peels: 2_000, overrides: { natsServer: { maxConnections: 10 } } })).toEqual([
      "overrides.natsServer.maxConnections: 10 is below the 4,000 the plan needs: max_connections 10 holds 10 " +
        "connections; the busiest cluster has 2,000 peels and any of its servers may get them all, so up to 1,990 " +
        'would be refused. If that is what you mean, confirm it by adding "natsServer.maxConnections" to ' +
        "overrides.confirmBelowPlan",
    ]);
  });

  test("confirmed, it is planned, its provenance says so, and the plan records it", () => {
    const p = plan({
      peels: 2_000,
      overrides: { natsServer: { maxConnections: 10 }, confirmBelowPlan: ["natsServer.maxConnections"] },
    });
    expect(p.natsServer.maxConnections).toBe(10);
    expect(p.natsServer.provenance.maxConnections).toEqual({
      source: "override",
      why: expect.stringMatching(
        /^set by overrides\.natsServer\.maxConnections below the 4,000 the plan needs, confirmed in overrides\.confirmBelowPlan: max_connections 10 holds 10 connections;.* up to 1,990 would be refused$/,
      ) as unknown,
    });
    expect(p.belowPlan).toEqual([
      {
        path: "natsServer.maxConnections",
        value: 10,
        needed: 4_000,
        breaks: expect.stringMatching(/1,990/) as unknown,
      },
    ]);
    expect(p.overrides).toEqual(["overrides.natsServer.maxConnections"]);
  });

  test("enough for every peel but not the guide's 2 ×: refused too, saying what the headroom is for", () => {
    expect(problems({ peels: 2_000, overrides: { natsServer: { maxConnections: 3_000 } } })[0]).toMatch(
      /^overrides\.natsServer\.maxConnections: 3,000 is below the 4,000 the plan needs: max_connections 3,000 leaves 1,000 connections to spare: .*reconnect wave/,
    );
  });

  test("with leaf sites, their peels count: they may fall back to the core", () => {
    expect(problems({ peels: 60_000, overrides: { natsServer: { maxConnections: 50_000 } } })[0]).toMatch(
      /max_connections 50,000 holds 50,000 connections; the busiest cluster has 60,000 peels \(leaf sites' included: they may fall back to it\) and any of its servers may get them all, so up to 10,000 would be refused/,
    );
  });

  test("a single server names its own peels", () => {
    expect(problems({ peels: 500, overrides: { natsServer: { maxConnections: 100 } } })[0]).toMatch(
      /max_connections 100 holds 100 connections; the server has 500 peels, so up to 400 would be refused/,
    );
  });

  test("at 2 × the peels or above, or only below this project's 1,024 floor, nothing needs confirming", () => {
    for (const [peels, maxConnections] of [
      [2_000, 4_000],
      [2_000, 50_000],
      [50, 100],
    ] as const) {
      const p = plan({ peels, overrides: { natsServer: { maxConnections } } });
      expect(p.natsServer.maxConnections).toBe(maxConnections);
      expect(p.belowPlan).toBeUndefined();
    }
    expect(plan({ peels: 2_000 }).belowPlan).toBeUndefined();
  });

  test("a bucket at R1 on a cluster is refused: it is lost with its server", () => {
    expect(problems({ peels: 2_000, overrides: { kv: { facts: { replicas: 1 } } } })).toEqual([
      "overrides.kv.facts.replicas: 1 is below the 3 the plan needs: replicas 1 keeps the facts bucket on one of " +
        "the cluster's 3 servers: it is lost with that server's disk and unavailable while that server restarts; the " +
        'planned 3 replicas survive 1 server down. If that is what you mean, confirm it by adding "kv.facts.replicas" ' +
        "to overrides.confirmBelowPlan",
    ]);
  });

  test("R2 on a 5-server cluster is refused: it needs both copies to take writes", () => {
    expect(problems({ peels: 25_000, overrides: { kv: { jobs: { replicas: 2 } } } })[0]).toMatch(
      /^overrides\.kv\.jobs\.replicas: 2 is below the 3 the plan needs: replicas 2 needs 2 of its 2 copies for a quorum, so writes to the jobs bucket stop as soon as one of its servers is down/,
    );
  });

  test("every unconfirmed one is listed; confirmed ones are recorded in the plan", () => {
    const overrides = { natsServer: { maxConnections: 10 }, kv: { facts: { replicas: 1 }, jobs: { replicas: 2 } } };
    expect(problems({ peels: 2_000, overrides }).map((p) => p.split(":")[0])).toEqual([
      "overrides.natsServer.maxConnections",
      "overrides.kv.facts.replicas",
      "overrides.kv.jobs.replicas",
    ]);
    const p = plan({
      peels: 2_000,
      overrides: {
        ...overrides,
        confirmBelowPlan: ["kv.jobs.replicas", "kv.facts.replicas", "natsServer.maxConnections"],
      },
    });
    expect(p.belowPlan?.map((b) => [b.path, b.value, b.needed])).toEqual([
      ["natsServer.maxConnections", 10, 4_000],
      ["kv.facts.replicas", 1, 3],
      ["kv.jobs.replicas", 2, 3],
    ]);
  });

  test("confirming what is not overridden, or not below the plan, is refused: no silent no-ops", () => {
    expect(problems({ peels: 2_000, overrides: { confirmBelowPlan: ["natsServer.maxConnections"] } })).toEqual([
      'overrides.confirmBelowPlan.0: "natsServer.maxConnections" confirms nothing: overrides.natsServer.maxConnections is not set. Remove it from overrides.confirmBelowPlan',
    ]);
    expect(
      problems({
        peels: 2_000,
        overrides: { natsServer: { maxConnections: 5_000 }, confirmBelowPlan: ["natsServer.maxConnections"] },
      }),
    ).toEqual([
      'overrides.confirmBelowPlan.0: "natsServer.maxConnections" confirms nothing: overrides.natsServer.maxConnections (5,000) is not below what the plan needs. Remove it from overrides.confirmBelowPlan',
    ]);
    // A single server plans R1: 1 there is not below the plan.
    expect(
      problems({ peels: 500, overrides: { kv: { jobs: { replicas: 1 } }, confirmBelowPlan: ["kv.jobs.replicas"] } }),
    ).toEqual([expect.stringMatching(/^overrides\.confirmBelowPlan\.0: "kv\.jobs\.replicas" confirms nothing/)]);
  });

  test("a path that cannot go below the plan, or one listed twice, is refused naming the entry", () => {
    expect(problems({ peels: 2_000, overrides: { confirmBelowPlan: ["client.peel.maxReconnects"] } })).toEqual([
      expect.stringMatching(
        /^overrides\.confirmBelowPlan\.0: must be one of the overrides that can go below what the plan needs: natsServer\.maxConnections, kv\.[a-z-]+\.replicas/,
      ) as unknown,
    ]);
    expect(
      problems({
        peels: 2_000,
        overrides: {
          kv: { facts: { replicas: 1 } },
          confirmBelowPlan: ["kv.facts.replicas", "kv.facts.replicas"],
        },
      }),
    ).toEqual(['overrides.confirmBelowPlan.1: "kv.facts.replicas" is listed twice']);
  });
});
