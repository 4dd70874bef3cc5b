/**
 * The phase machine of a cloud target's tier transition: one phase per update, the next refused
 * until the reconcile job reports the data moved, and every transition with a step the cloud
 * targets cannot carry out refused naming it. Pure: transitions planned over the AWS target's
 * own deployments.
 */
import { prepareAws } from "../../components/aws/component";
import {
  CLOUD_CARRIER,
  decidePhase,
  parseReport,
  type PhaseDecision,
  type TransitionReport,
} from "../../change/phased";
import { planTransition } from "../../change/plan-transition";
import { STEP_KINDS, type Transition } from "../../change/transition";
import { TransitionOutputSchema, type TransitionOutput } from "../../change/transition-output";

const SETTINGS = { region: "eu-west-1", monitoringCidrs: ["10.60.0.0/16"] };
const AT = "SSM parameter /zester/x/zester/kv-reconcile/transition";

function transition(from: number, to: number): Transition {
  const [a, b] = [from, to].map((peels) => prepareAws({ spec: { peels }, settings: SETTINGS }));
  if (a === undefined || b === undefined) throw new Error("two tiers");
  return planTransition({ from: a.topology, to: b.topology, deployed: a.deployment, wanted: b.deployment });
}

const report = (t: Transition, phase: TransitionReport["phase"], done: string[]): TransitionReport => ({
  version: 1,
  from: t.from,
  to: t.to,
  phase,
  done,
  at: "2026-11-27T15:00:00.000Z",
});

function applied(d: PhaseDecision): Extract<PhaseDecision, { state: "apply" }>["plan"] {
  if (d.state !== "apply") throw new Error(`expected a phase to apply, got ${d.state}`);
  return d.plan;
}

describe("cluster-3 → cluster-5 (2,000 → 12,000 peels), phase by phase", () => {
  const t = transition(2_000, 12_000);

  test("the first update applies expand: the five servers declared, the job still at cluster-3's buckets", () => {
    const plan = applied(decidePhase({ transition: t, last: undefined, report: undefined, reportAt: AT }));
    expect([plan.phase, plan.servers, plan.job, plan.jobSteps]).toEqual(["expand", "wanted", "current", []]);
    expect(TransitionOutputSchema.parse(plan.output)).toEqual(plan.output);
    expect(plan.output).toMatchObject({ phase: "expand", phases: ["expand", "move"] });
    expect(plan.output.waitingFor).toMatch(/^this update's servers healthy .*applies the move phase$/);
  });

  test("the next applies move: the job gets set-limits and the output names the report it waits for", () => {
    const last = applied(decidePhase({ transition: t, last: undefined, report: undefined, reportAt: AT })).output;
    const plan = applied(decidePhase({ transition: t, last, report: undefined, reportAt: AT }));
    expect([plan.phase, plan.servers, plan.job]).toEqual(["move", "wanted", "transition"]);
    expect(plan.jobSteps).toEqual([{ id: "05-set-limits", kind: "set-limits" }]);
    expect(plan.output.waitingFor).toBe(
      `the reconcile job's report that 05-set-limits of cluster-3 → cluster-5 (move) are done, every stream as the cluster-5 tier plans it (${AT})`,
    );
  });

  describe("after move", () => {
    const expand = applied(decidePhase({ transition: t, last: undefined, report: undefined, reportAt: AT })).output;
    const move = applied(decidePhase({ transition: t, last: expand, report: undefined, reportAt: AT })).output;

    test("without the job's report, the next update is refused naming what it waits for", () => {
      const d = decidePhase({ transition: t, last: move, report: undefined, reportAt: AT });
      expect(d.state).toBe("waiting");
      if (d.state !== "waiting") return;
      expect(d.waitingFor).toBe(move.waitingFor);
      expect(d.refusal.reason).toMatch(/no report has been written yet$/);
    });

    test.each<[string, TransitionReport]>([
      ["an earlier phase", report(t, "expand", ["05-set-limits"])],
      ["another step", report(t, "move", ["04-add-servers"])],
      ["another transition", { ...report(t, "move", ["05-set-limits"]), from: { tier: "single", peels: 500 } }],
    ])("a report of %s does not count", (_, r) => {
      const d = decidePhase({ transition: t, last: move, report: r, reportAt: AT });
      expect(d.state).toBe("waiting");
      if (d.state === "waiting") expect(d.refusal.reason).toMatch(/the report there is for/);
    });

    test("with it, the transition is finished: the wanted tier as it is", () => {
      const d = decidePhase({ transition: t, last: move, report: report(t, "move", ["05-set-limits"]), reportAt: AT });
      expect(d).toEqual({ state: "finished" });
    });
  });

  test("a last output of another transition starts this one from its first phase", () => {
    const other: TransitionOutput = {
      ...applied(decidePhase({ transition: t, last: undefined, report: undefined, reportAt: AT })).output,
      to: { tier: "leaf", peels: 60_000 },
    };
    expect(applied(decidePhase({ transition: t, last: other, report: undefined, reportAt: AT })).phase).toBe("expand");
  });
});

test("single → cluster-3: refused on the cloud, naming the steps it lacks", () => {
  const d = decidePhase({ transition: transition(500, 2_000), last: undefined, report: undefined, reportAt: AT });
  expect(d.state).toBe("unsupported");
  if (d.state === "unsupported")
    expect(d.missing.map((s) => s.id)).toEqual(["01-add-cluster", "02-copy-data", "03-cut-over", "05-delete-data"]);
});

test("every step kind has a carrier on the cloud or is named as missing", () => {
  expect(Object.keys(CLOUD_CARRIER).sort()).toEqual([...STEP_KINDS].sort());
});

test("a report read back is checked: not JSON, or not a report, is refused naming where it was read", () => {
  expect(parseReport(undefined, "here")).toBeUndefined();
  expect(() => parseReport("{", "SSM parameter /p")).toThrow(
    /^SSM parameter \/p holds no tier transition report \(not JSON\)/,
  );
  expect(() =>
    parseReport(JSON.stringify({ version: 1, phase: "move" }), "ConfigMap zester/zester-transition"),
  ).toThrow(/^ConfigMap zester\/zester-transition holds no tier transition report this version reads \(.* at from\)/);
});
