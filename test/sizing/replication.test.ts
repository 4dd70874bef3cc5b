import { plan, SpecError } from "../../sizing";
import type { SizingSpecInput } from "../../sizing/spec";

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map((p) => ({ path: p.path.join("."), message: p.message }));
    throw error;
  }
  throw new Error("expected a SpecError");
}

/** Two regions; room made for a copy of facts by lowering job-returns (a quarter of the store). */
const twoRegions = (replicate: unknown, overrides: SizingSpecInput["overrides"] = {}): SizingSpecInput =>
  ({
    peels: 150_000,
    regions: [{ name: "eu", replicate }, { name: "us" }],
    overrides,
  }) as SizingSpecInput;
const roomForFacts = { kv: { "job-returns": { maxBytes: 1024 ** 3 } } };

describe("cross-region replication", () => {
  test("GIVEN eu replicates facts to us WHEN planned THEN us keeps facts-from-eu, a mirror of eu's KV_facts in domain zester with facts' limits", () => {
    const p = plan(twoRegions([{ bucket: "facts", to: "us" }], roomForFacts));
    const facts = p.kv.find((b) => b.name === "facts");
    const [eu, us] = p.regions;
    expect(eu?.replicas).toBeUndefined();
    expect(us?.replicas).toEqual([
      {
        name: "facts-from-eu",
        kind: "kv",
        stream: "KV_facts-from-eu",
        history: facts?.history,
        ttlSeconds: facts?.ttlSeconds,
        replicas: facts?.replicas,
        storage: "file",
        maxBytes: facts?.maxBytes,
        discard: "new",
        mirror: { region: "eu", domain: "zester", bucket: "facts", stream: "KV_facts" },
      },
    ]);
  });

  test("a copy from a region other than the first mirrors that region's own domain", () => {
    const p = plan({
      peels: 150_000,
      regions: [{ name: "eu" }, { name: "us", replicate: [{ bucket: "secrets", to: "eu" }] }],
    });
    expect(p.regions[0]?.replicas?.map((r) => [r.stream, r.mirror.domain, r.mirror.stream])).toEqual([
      ["KV_secrets-from-us", "us", "KV_secrets"],
    ]);
  });

  test("without replicate no region carries replicas (the plan is unchanged)", () => {
    expect(plan({ peels: 150_000 }).regions.every((r) => r.replicas === undefined)).toBe(true);
  });

  test("an unknown bucket is refused, naming the key and the KV buckets (job-events is a stream, not one)", () => {
    for (const bucket of ["nope", "job-events"]) {
      const [p] = problemsOf(() => plan(twoRegions([{ bucket, to: "us" }])));
      expect(p?.path).toBe("regions.0.replicate.0.bucket");
      expect(p?.message).toMatch(/^must be one of the KV buckets: facts, .*secrets/);
      expect(p?.message).not.toMatch(/job-events/);
    }
  });

  test("a region that is not in the plan is refused, listing the regions", () => {
    const [p] = problemsOf(() => plan(twoRegions([{ bucket: "secrets", to: "ap" }])));
    expect(p).toEqual({
      path: "regions.0.replicate.0.to",
      message: '"ap" is not a region of this plan; the regions are: eu, us',
    });
  });

  test("a region replicating to itself is refused", () => {
    const [p] = problemsOf(() => plan(twoRegions([{ bucket: "secrets", to: "eu" }])));
    expect(p?.path).toBe("regions.0.replicate.0.to");
    expect(p?.message).toMatch(/"eu" is the region that holds secrets; a copy goes to another region: us/);
  });

  test("the same copy declared twice is refused; an unknown key in an entry too", () => {
    const [twice] = problemsOf(() =>
      plan(
        twoRegions([
          { bucket: "secrets", to: "us" },
          { bucket: "secrets", to: "us" },
        ]),
      ),
    );
    expect(twice).toEqual({ path: "regions.0.replicate.1", message: "secrets to us is declared twice" });
    const [unknown] = problemsOf(() => plan(twoRegions([{ bucket: "secrets", to: "us", mode: "sources" }])));
    expect(unknown?.path).toBe("regions.0.replicate.0.mode");
  });

  test("copies that do not fit the keeping region's JetStream store are refused, naming the fix (facts with every default share)", () => {
    const [p] = problemsOf(() => plan(twoRegions([{ bucket: "facts", to: "us" }])));
    expect(p?.path).toBe("regions.0.replicate.0");
    expect(p?.message).toMatch(
      /region us would hold .* of file-backed streams .* lower overrides\.kv\.<bucket>\.maxBytes/,
    );
  });
});
