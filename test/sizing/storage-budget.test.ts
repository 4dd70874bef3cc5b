import fc from "fast-check";
import { plan, SpecError } from "../../sizing";
import { MAX_PEELS } from "../../sizing/policy";

describe("every stream is bounded, and all of them fit the store", () => {
  test("over random peel counts: each stream has a max_bytes, and their sum is within max_file_store / max_mem_store", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PEELS }), (peels) => {
        const p = plan({ peels });
        for (const b of p.kv) expect(b.maxBytes).toBeGreaterThan(0);
        const sum = (storage: string) => p.kv.filter((b) => b.storage === storage).reduce((n, b) => n + b.maxBytes, 0);
        expect(sum("file")).toBe(p.storageBudget.filePlannedBytes);
        expect(sum("file")).toBeLessThanOrEqual(p.natsServer.jetstream.maxFileStoreBytes);
        expect(sum("memory")).toBeLessThanOrEqual(p.natsServer.jetstream.maxMemStoreBytes);
      }),
      { numRuns: 200 },
    );
  });

  test("job-events drops its oldest events past 7 days or its share; KV buckets refuse writes when full", () => {
    const p = plan({ peels: 2_000 });
    const events = p.kv.find((b) => b.name === "job-events");
    expect(events).toMatchObject({ kind: "stream", discard: "old", ttlSeconds: 7 * 86_400 });
    expect(events?.maxBytes).toBe(Math.floor(p.natsServer.jetstream.maxFileStoreBytes * 0.2));
    for (const b of p.kv.filter((x) => x.kind === "kv")) expect(b.discard).toBe("new");
  });

  test("a bucket's max_bytes can be overridden, but not past what the store holds, naming the key", () => {
    const given = plan({ peels: 2_000, overrides: { kv: { facts: { maxBytes: 1024 ** 3 } } } });
    expect(given.kv.find((b) => b.name === "facts")?.maxBytes).toBe(1024 ** 3);
    expect(given.overrides).toContain("overrides.kv.facts.maxBytes");
    let error: unknown;
    try {
      plan({ peels: 2_000, overrides: { kv: { facts: { maxBytes: 150 * 1024 ** 3 } } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect(String(error)).toMatch(
      /^SpecError: overrides\.kv\.facts\.maxBytes: the file-backed streams would hold 2\d\d\.\d GiB, more than the 160 GiB of max_file_store/,
    );
  });
});
