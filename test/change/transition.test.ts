import fc from "fast-check";
import { localDeployment } from "../../local/deployment";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology/build";
import { ChangeRefused } from "../../change/change";
import type { Deployment } from "../../change/deployment";
import { checkTransition, isEmpty, planTransition } from "../../change/plan-transition";
import { PHASES, type TransitionInput } from "../../change/transition";
import { checkSteps } from "../../change/transition-check";
import { TransitionOutputSchema, transitionOutput } from "../../change/transition-output";
import type { Topology } from "../../topology/types";
import { TIER_EXAMPLES } from "../helpers/tiers";

import { completeSeeds } from "../../local/identities";
import type { NatsServerBinary } from "../../local/nats-binary";

const NATS_SERVER: NatsServerBinary = { path: "/usr/sbin/nats-server", version: "2.9.10", origin: "a test" };
const STATE = { auth: { seeds: completeSeeds(), ca: "", peels: {}, revoked: {} }, natsServer: NATS_SERVER };
const topo = (peels: number): Topology => build(plan({ peels }), standardAddressing("zester.internal"));
const describeOf = (t: Topology): Deployment => localDeployment(t, "/var/lib/zester", STATE);

function input(from: number, to: number): TransitionInput {
  const [a, b] = [topo(from), topo(to)];
  return { from: a, to: b, deployed: describeOf(a), wanted: describeOf(b) };
}
const kinds = (from: number, to: number): string[] => planTransition(input(from, to)).steps.map((s) => s.kind);

function nth<T>(items: T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${String(i)}`);
  return item;
}

describe("planTransition(): up the tiers", () => {
  test("50 → 500: the single server restarts, naming the pause of its writes, then its streams' limits grow", () => {
    const t = planTransition(input(50, 500));
    expect(t.steps.map((s) => [s.kind, s.phase, s.servers])).toEqual([
      ["restart", "expand", ["core-0"]],
      ["set-limits", "move", ["core-0"]],
    ]);
    expect(t.steps[0]?.risks).toEqual(["restart", "writes-paused"]);
  });

  test("500 → 2,000: the other members start as a cluster of their own, the data is copied, core-0 changes over, replicas are raised, the old store goes last", () => {
    const t = planTransition(input(500, 2_000));
    expect(t.phases).toEqual(["expand", "move", "contract"]);
    expect(t.steps.map((s) => [s.id, s.servers])).toEqual([
      ["01-add-cluster", ["core-1", "core-2"]],
      ["02-copy-data", ["core-0", "core-1", "core-2"]],
      ["03-cut-over", ["core-0"]],
      ["04-set-replicas", ["core-0", "core-1", "core-2"]],
      ["05-delete-data", ["core-0"]],
    ]);
    expect(t.steps[1]).toMatchObject({ source: ["core-0"], risks: ["writes-paused", "fewer-replicas"] });
    expect(t.steps[1]?.description).toMatch(/at R2/);
  });

  test("2,000 → 12,000: the members restart one at a time, then core-3 and core-4 join; nothing is copied", () => {
    expect(kinds(2_000, 12_000)).toEqual(["restart", "restart", "restart", "add-servers", "set-limits"]);
    const t = planTransition(input(2_000, 12_000));
    expect(t.steps.filter((s) => s.kind === "restart").map((s) => s.servers)).toEqual([
      ["core-0"],
      ["core-1"],
      ["core-2"],
    ]);
    expect(t.steps.find((s) => s.kind === "add-servers")?.servers).toEqual(["core-3", "core-4"]);
  });

  test("12,000 → 60,000: every core listens for leaf connections before the leaf site starts", () => {
    const steps = planTransition(input(12_000, 60_000)).steps;
    const site = steps.findIndex((s) => s.kind === "add-leaf-site");
    expect(steps[site]?.servers).toHaveLength(6);
    expect(steps.slice(0, site).map((s) => s.kind)).toEqual(Array<string>(5).fill("restart"));
  });

  test("60,000 → 150,000 adds a region next to the running cluster: nothing of the first region is copied or replaced", () => {
    const t = planTransition(input(60_000, 150_000));
    expect(t.steps.map((s) => s.kind)).not.toEqual(expect.arrayContaining(["copy-data"]));
    expect(t.steps.filter((s) => ["cut-over", "delete-data", "remove-servers"].includes(s.kind))).toEqual([]);
    const region = t.steps.find((s) => s.kind === "add-region");
    expect(region?.servers).toEqual([
      "region-1-core-0",
      "region-1-core-1",
      "region-1-core-2",
      "region-1-core-3",
      "region-1-core-4",
    ]);
    expect(t.steps.findIndex((s) => s.kind === "create-buckets")).toBe(
      t.steps.findIndex((s) => s.kind === "add-region") + 1,
    );
    expect(t.steps.find((s) => s.kind === "add-servers" && s.site === "edge")?.servers).toEqual([
      "leaf-edge-6",
      "leaf-edge-7",
    ]);
  });

  test("the same peel count: nothing to do", () => {
    expect(isEmpty(planTransition(input(2_000, 2_000)))).toBe(true);
  });

  test("a peel count inside the tier: the servers reload, nothing restarts", () => {
    expect(planTransition(input(2_000, 3_000)).steps.map((s) => [s.kind, s.servers])).toEqual([
      ["reload", ["core-0", "core-1", "core-2"]],
    ]);
  });
});

describe("planTransition(): down the tiers, and what is refused", () => {
  test("150,000 → 60,000 is refused: region-1's buckets are its own peels' state and nothing else holds them", () => {
    const t = planTransition(input(150_000, 60_000));
    expect(t.steps).toEqual([]);
    expect(t.refused).toEqual([
      expect.objectContaining({
        server: "region-1-core-0",
        risk: "data-loss",
        reason: expect.stringMatching(/region region-1 .* would be removed/) as unknown,
      }),
    ]);
    expect(() => checkTransition(input(150_000, 60_000))).toThrow(ChangeRefused);
  });

  test("60,000 → 12,000: limits come down first, the leaf site stops, then the cores restart without its listener", () => {
    expect(kinds(60_000, 12_000)).toEqual(["set-limits", "remove-servers", ...Array<string>(5).fill("restart")]);
  });

  test("12,000 → 2,000: each leaving member's replicas move, highest first, one at a time; their stores go last", () => {
    const t = planTransition(input(12_000, 2_000));
    expect(t.steps.map((s) => [s.kind, s.servers])).toEqual([
      ["set-limits", ["core-0", "core-1", "core-2"]],
      ["move-replicas", ["core-4"]],
      ["move-replicas", ["core-3"]],
      ["delete-data", ["core-4"]],
      ["delete-data", ["core-3"]],
      ["restart", ["core-0"]],
      ["restart", ["core-1"]],
      ["restart", ["core-2"]],
    ]);
  });

  test("2,000 → 500: core-0 leaves the cluster and starts alone, the data is copied into it, the others stop", () => {
    expect(kinds(2_000, 500)).toEqual(["cut-over", "copy-data", "remove-servers", "delete-data"]);
    expect(planTransition(input(2_000, 500)).steps[1]).toMatchObject({ source: ["core-1", "core-2"] });
  });

  test("a server whose JetStream would move to another kind of disk is refused (the cloud's EBS → NVMe)", () => {
    const base = input(12_000, 60_000);
    const onEbs = (d: Deployment, kind: "ebs" | "instance-store"): Deployment => ({
      ...d,
      servers: d.servers.map((s) =>
        s.data === undefined ? s : { ...s, data: { ...s.data, kind, volume: `${s.name}-data` } },
      ),
    });
    const t = planTransition({
      ...base,
      deployed: onEbs(base.deployed, "ebs"),
      wanted: onEbs(base.wanted, "instance-store"),
    });
    expect(t.refused.map((r) => `${r.server}:${r.risk}`)).toEqual(
      ["core-0", "core-1", "core-2", "core-3", "core-4"].map((s) => `${s}:data-loss`),
    );
  });
});

describe("the invariants catch a plan that breaks them", () => {
  const violations = (
    from: number,
    to: number,
    edit: (steps: ReturnType<typeof planTransition>["steps"]) => ReturnType<typeof planTransition>["steps"],
  ): string => {
    const i = input(from, to);
    return checkSteps(i, edit(planTransition(i).steps)).join("\n");
  };

  test("a store deleted before its data was copied holds the only current copy", () => {
    expect(violations(500, 2_000, (s) => [nth(s, 4), ...s.slice(0, 4)])).toMatch(
      /05-delete-data: deletes core-0's store, which holds current data/,
    );
  });

  test("a cut-over before the copy joins a cluster that holds nothing yet", () => {
    expect(violations(500, 2_000, (s) => [nth(s, 0), nth(s, 2), nth(s, 1), nth(s, 3), nth(s, 4)])).toMatch(
      /cuts core-0 over into a group that holds no copy/,
    );
  });

  test("two members of a cluster restarted in one step; two leaving members at once", () => {
    expect(violations(2_000, 12_000, (s) => [{ ...nth(s, 0), servers: ["core-0", "core-1"] }, ...s.slice(1)])).toMatch(
      /restarts more than one server/,
    );
    expect(
      violations(12_000, 2_000, (s) => [
        nth(s, 0),
        { ...nth(s, 1), kind: "remove-servers", servers: ["core-4", "core-3"] },
        ...s.slice(3),
      ]),
    ).toMatch(/stops core-4, a voter of a live cluster/);
  });

  test("without raising the replicas, the buckets end below their planned replicas", () => {
    expect(violations(500, 2_000, (s) => s.filter((x) => x.kind !== "set-replicas"))).toMatch(
      /KV_facts in zester ends at R2, planned R3/,
    );
  });
});

describe("the stack output", () => {
  test("carries exactly the contract's fields, and parses", () => {
    const out = transitionOutput(planTransition(input(500, 2_000)), "expand", "the data copy");
    expect(Object.keys(out)).toEqual(["from", "to", "phase", "phases", "waitingFor", "steps"]);
    expect(Object.keys(out.steps[0] ?? {})).toEqual([
      "id",
      "phase",
      "kind",
      "servers",
      "waitsFor",
      "risks",
      "description",
    ]);
    expect(TransitionOutputSchema.parse(JSON.parse(JSON.stringify(out)))).toEqual(out);
    expect(out.from).toEqual({ tier: "single", peels: 500 });
  });
});

describe("every pair of peel counts", () => {
  const peels = fc.oneof(
    fc.constantFrom(
      ...TIER_EXAMPLES.map(([, p]) => p),
      0,
      99,
      100,
      999,
      1_000,
      9_999,
      10_000,
      49_999,
      50_000,
      99_999,
      100_000,
    ),
    fc.integer({ min: 0, max: 320_000 }),
  );

  test("is either refused for a region it would remove, or planned in phase order with every invariant kept", () => {
    fc.assert(
      fc.property(peels, peels, (a, b) => {
        const i = input(a, b);
        // planTransition throws if its own steps break an invariant.
        const t = planTransition(i);
        const removesRegion = i.from.clusters.some((c) => !i.to.clusters.some((x) => x.name === c.name));
        expect(t.refused.length > 0).toBe(removesRegion);
        if (removesRegion) return;
        expect(checkSteps(i, t.steps)).toEqual([]);
        const order = t.steps.map((s) => PHASES.indexOf(s.phase));
        expect(order).toEqual([...order].sort((x, y) => x - y));
        expect(t.steps.map((s) => s.id)).toEqual(t.steps.map((s, n) => `${String(n + 1).padStart(2, "0")}-${s.kind}`));
        expect(t.phases).toEqual(PHASES.filter((p) => t.steps.some((s) => s.phase === p)));
      }),
      { numRuns: 150 },
    );
  });
});
