/**
 * A refactoring changes no plan: every case of test/helpers/plan-fixtures.ts (the example stacks,
 * every tier on both cloud targets, the largest tier, three declared regions, a tier transition
 * phase by phase, refusals) prints exactly what it printed when the fixtures were written: exit
 * status, stderr and `plan --json`'s bytes (outputs, and every resource with its inputs and
 * options). A change that means to change plans writes them again (see that file).
 */
import { readdirSync } from "node:fs";
import {
  bundleDigest,
  FIXTURES,
  PLAN_CASES,
  readBundleFixture,
  readFixture,
  runCases,
  withoutBundle,
  type PlanRun,
} from "../helpers/plan-fixtures";

let runs: Map<string, PlanRun>;
beforeAll(async () => {
  runs = await runCases(PLAN_CASES);
}, 600_000);

interface PlanJson {
  outputs: Record<string, unknown>;
  resources: { type: string; name: string }[];
}

/** Where two plans first differ, in words a reader can act on (the bytes alone say nothing). */
function firstDifference(before: string, after: string): string {
  let plans: [PlanJson, PlanJson];
  try {
    plans = [JSON.parse(before) as PlanJson, JSON.parse(after) as PlanJson];
  } catch {
    return "not JSON";
  }
  const [was, now] = plans;
  for (const key of new Set([...Object.keys(was.outputs), ...Object.keys(now.outputs)]))
    if (JSON.stringify(was.outputs[key]) !== JSON.stringify(now.outputs[key])) return `output ${key}`;
  if (was.resources.length !== now.resources.length)
    return `${String(was.resources.length)} resources before, ${String(now.resources.length)} now`;
  const index = was.resources.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(now.resources[i]));
  const [a, b] = [was.resources[index], now.resources[index]];
  return index < 0
    ? "formatting only"
    : `resource ${String(index)}: ${a?.type ?? ""} ${a?.name ?? ""} / ${b?.type ?? ""} ${b?.name ?? ""}`;
}

test("every case has a fixture, and every fixture a case", () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json.br"))
    .map((f) => f.slice(0, -".json.br".length))
    .sort();
  expect(files).toEqual(PLAN_CASES.map((c) => c.name).sort());
});

test.each(PLAN_CASES.map((c) => c.name))("%s: the same exit status, stderr and plan, byte for byte", (name) => {
  const run = runs.get(name);
  if (run === undefined) throw new Error(`no run of ${name}`);
  const now = withoutBundle(run);
  const before = readFixture(name);
  expect({ status: now.status, stderr: now.stderr }).toEqual({ status: before.status, stderr: before.stderr });
  if (now.stdout !== before.stdout)
    throw new Error(`${name}: the plan differs; first at ${firstDifference(before.stdout, now.stdout)}`);
  // Not vacuous: a plan that ran holds resources, a refusal says why.
  expect(now.status === 0 ? now.stdout.length : now.stderr.length).toBeGreaterThan(0);
});

test("the bundled KV reconcile's code is the same, module by module (what a move changes aside)", () => {
  expect(bundleDigest()).toBe(readBundleFixture());
});
