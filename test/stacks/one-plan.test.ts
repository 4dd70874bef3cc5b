/**
 * One preparation per update: the program plans the wanted spec once and builds its topology once;
 * a tier transition plans the tier it starts from once more, and nothing is planned twice. Counted
 * in the offline plan's own process (test/helpers/count-plans.cjs wraps sizing's `plan` and
 * topology's `build`), so what is counted is what `pulumi up` runs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../helpers/run";

interface Counted {
  status: number | null;
  stderr: string;
  stdout: string;
  /** The peel count of each call, in order. */
  plan: number[];
  build: number[];
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "zester-one-plan-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function counted(stack: string, sets: string[], previous?: unknown): Counted {
  const countFile = path.join(dir, "count.json");
  const args = ["--stack", stack, ...sets.flatMap((s) => ["--set", s]), "--json"];
  if (previous !== undefined) {
    writeFileSync(path.join(dir, "previous.json"), JSON.stringify(previous));
    args.push("--previous", path.join(dir, "previous.json"));
  }
  const r = spawnSync(
    process.execPath,
    [
      "-r",
      path.join(ROOT, "test", "helpers", "count-plans.cjs"),
      path.join(ROOT, "scripts", "bin", "run.cjs"),
      "plan",
      ...args,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, ZESTER_COUNT_FILE: countFile }, maxBuffer: 64 * 1024 * 1024 },
  );
  const calls = JSON.parse(readFileSync(countFile, "utf8")) as { plan: number[]; build: number[] };
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, ...calls };
}

const outputsOf = (c: Counted): Record<string, unknown> => {
  expect([c.status, c.stderr]).toEqual([0, ""]);
  return (JSON.parse(c.stdout) as { outputs: Record<string, unknown> }).outputs;
};

test.each([
  ["dev", "kubernetes", 50],
  ["staging", "aws", 2_000],
  ["prod", "aws", 60_000],
])("a new %s stack (%s) is planned once and built once", (stack, _target, peels) => {
  const c = counted(stack, []);
  outputsOf(c);
  expect(c.plan).toEqual([peels]);
  expect(c.build).toEqual([peels]);
});

test("an update over what is deployed, at the same tier, plans and builds once", () => {
  const deployed = outputsOf(counted("staging", []));
  const c = counted("staging", ['overrides={"natsServer":{"maxPayloadBytes":2097152}}'], { outputs: deployed });
  expect(outputsOf(c).deployment).toBeDefined();
  expect([c.plan, c.build]).toEqual([[2_000], [2_000]]);
});

test.each(["staging", "dev"])(
  "%s: a tier transition plans the wanted tier and the one it starts from, each once",
  (stack) => {
    const sets = stack === "dev" ? [`kubernetes=${JSON.stringify({ nvmeStorageClass: "local-nvme" })}`] : [];
    const deployed = outputsOf(counted(stack, ["peels=2000", ...sets]));
    const expand = counted(stack, ["peels=12000", ...sets], { outputs: deployed });
    expect((outputsOf(expand).transition as { phase: string }).phase).toBe("expand");
    expect([expand.plan, expand.build]).toEqual([
      [12_000, 2_000],
      [12_000, 2_000],
    ]);
  },
);

test("a stack from before the deployment record is rebuilt from its peels without planning them again", () => {
  const c = counted("staging", [], { outputs: { peels: 2_000 } });
  expect(outputsOf(c).deployment).toBeDefined();
  expect([c.plan, c.build]).toEqual([[2_000], [2_000]]);
});
