/**
 * The plans a refactoring must leave byte-identical: every example stack, every tier on both cloud
 * targets, the largest tier, a three-region supercluster, and a tier transition phase by phase
 * (each `--previous` is the earlier case's own output, as `pulumi up` reads its last outputs back).
 * Each case is `plan --json` as its own process; what it printed is kept in
 * test/fixtures/plans/<case>.json.br (brotli: the largest plan is 21 MB of mostly repeated text).
 *
 * One part is not compared byte for byte: the bundled KV reconcile (lib/reconcile-job.js), which a
 * Kubernetes plan carries in a ConfigMap. Moving a source file changes the bundle's text (paths,
 * order, names esbuild picks) without changing its code. The plans hold a marker where the bundle
 * was; the bundle is compared module by module without what a move changes (bundleCode).
 *
 * Written again with `npx ts-node --transpile-only test/helpers/plan-fixtures.ts [CASE ...]` (after a
 * change that means to change plans; only the named cases when some are), compared by
 * test/stacks/plans-unchanged.test.ts.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

const ROOT = path.resolve(__dirname, "..", "..");
export const FIXTURES = path.join(ROOT, "test", "fixtures", "plans");
const BUNDLE = path.join(ROOT, "lib", "reconcile-job.js");
export const BUNDLE_MARKER = "(lib/reconcile-job.js: compared apart, without its source paths)";

export interface PlanCase {
  name: string;
  stack: string;
  sets: string[];
  /** The case whose output is `--previous` (what the stack deployed last). */
  previous?: string;
  /** Or that output given as it is (e.g. a stack from before the deployment record). */
  previousOutputs?: unknown;
  /** The reconcile job's transition report, as the stack reads it back. */
  report?: unknown;
}

export interface PlanRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

const TIERS: [tier: string, peels: number][] = [
  ["single-small", 50],
  ["single", 500],
  ["cluster-3", 2_000],
  ["cluster-5", 20_000],
  ["leaf", 60_000],
  ["supercluster", 150_000],
];

const NVME = { nvmeStorageClass: "local-nvme" };
const k8sSuper = (regions: number): Record<string, unknown> => ({
  ...NVME,
  regions: Object.fromEntries(
    Array.from({ length: regions - 1 }, (_, i) => [`region-${String(i + 1)}`, { context: `ctx-${String(i + 1)}` }]),
  ),
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
});
const k8sSettings = (peels: number): Record<string, unknown> =>
  peels >= 100_000 ? k8sSuper(2) : peels >= 10_000 ? NVME : {};
const awsSuper = (regions: number): Record<string, unknown> => ({
  region: "eu-west-1",
  monitoringCidrs: ["10.60.0.0/16"],
  regions: Object.fromEntries(
    Array.from({ length: regions - 1 }, (_, i) => [
      `region-${String(i + 1)}`,
      { region: ["us-east-1", "ap-southeast-2"][i] ?? "us-west-2" },
    ]),
  ),
});

const peelsSet = (peels: number): string => `peels=${String(peels)}`;
const json = (key: string, value: unknown): string => `${key}=${JSON.stringify(value)}`;

const REPORT = {
  version: 1,
  from: { tier: "cluster-3", peels: 2_000 },
  to: { tier: "cluster-5", peels: 12_000 },
  phase: "move",
  done: ["05-set-limits"],
  at: "2026-11-27T15:00:00.000Z",
};

function transitionCases(target: "aws" | "kubernetes"): PlanCase[] {
  const stack = target === "aws" ? "staging" : "dev";
  const extra = target === "aws" ? [] : [json("kubernetes", NVME)];
  const at = (peels: number): string[] => [peelsSet(peels), ...extra];
  const name = (what: string): string => `${target}-transition-${what}`;
  // On AWS the tiers' own cases are what is deployed (the same plans).
  const deployed = target === "aws" ? "aws-cluster-3" : name("deployed");
  const single = target === "aws" ? "aws-single" : name("single-deployed");
  return [
    ...(target === "aws" ? [] : [{ name: name("deployed"), stack, sets: at(2_000) }]),
    { name: name("expand"), stack, sets: at(12_000), previous: deployed },
    { name: name("move"), stack, sets: at(12_000), previous: name("expand") },
    { name: name("waiting"), stack, sets: at(12_000), previous: name("move") },
    { name: name("finished"), stack, sets: at(12_000), previous: name("move"), report: REPORT },
    { name: name("after"), stack, sets: at(12_000), previous: name("finished") },
    { name: name("other-peels"), stack, sets: at(2_000), previous: name("expand") },
    ...(target === "aws" ? [] : [{ name: name("single-deployed"), stack, sets: at(500) }]),
    { name: name("single-to-cluster"), stack, sets: at(2_000), previous: single },
  ];
}

export const PLAN_CASES: PlanCase[] = [
  ...["dev", "staging", "prod"].map((stack) => ({ name: `stack-${stack}`, stack, sets: [] })),
  ...TIERS.map(([tier, peels]) => ({
    name: `aws-${tier}`,
    stack: "staging",
    sets: [peelsSet(peels), ...(peels >= 100_000 ? [json("aws", awsSuper(2))] : [])],
  })),
  ...TIERS.map(([tier, peels]) => ({
    name: `kubernetes-${tier}`,
    stack: "dev",
    sets: [peelsSet(peels), json("kubernetes", k8sSettings(peels))],
  })),
  // The largest tier: 1,000,000 peels in 11 regions on Kubernetes.
  { name: "kubernetes-largest", stack: "dev", sets: [peelsSet(1_000_000), json("kubernetes", k8sSuper(11))] },
  // Three declared regions (not the two implied), each with a leaf site, and a bucket copied across.
  {
    name: "aws-three-regions",
    stack: "staging",
    sets: [
      peelsSet(150_000),
      json("aws", awsSuper(3)),
      json("regions", [
        { name: "region-0", replicate: [{ bucket: "secrets", to: "region-2" }] },
        { name: "region-1" },
        { name: "region-2" },
      ]),
    ],
  },
  // Overrides and declared leaf sites on Kubernetes.
  {
    name: "kubernetes-overrides",
    stack: "dev",
    sets: [
      peelsSet(60_000),
      json("kubernetes", NVME),
      json("leafSites", [{ name: "dmz", servers: 3 }, { name: "branch" }]),
      json("overrides", { natsServer: { maxPayloadBytes: 2_097_152 }, kv: { facts: { history: 5 } } }),
    ],
  },
  ...transitionCases("aws"),
  ...transitionCases("kubernetes"),
  // A change within a tier over what is deployed: a reload or restart per server, no transition.
  {
    name: "aws-in-place-change",
    stack: "staging",
    sets: [peelsSet(2_000), json("overrides", { natsServer: { maxPayloadBytes: 2_097_152 } })],
    previous: "aws-cluster-3",
  },
  // A stack from before the deployment record: what it runs rebuilt from its last peel count.
  { name: "aws-before-the-record", stack: "staging", sets: [peelsSet(2_000)], previousOutputs: { peels: 2_000 } },
  // Into the supercluster with its regions set: today's settings do not describe the tier it runs.
  { name: "aws-leaf-top", stack: "staging", sets: [peelsSet(99_999)] },
  {
    name: "aws-leaf-to-supercluster",
    stack: "staging",
    sets: [peelsSet(100_000), json("aws", awsSuper(2))],
    previous: "aws-leaf-top",
  },
  { name: "kubernetes-leaf-top", stack: "dev", sets: [peelsSet(99_999), json("kubernetes", NVME)] },
  {
    name: "kubernetes-leaf-to-supercluster",
    stack: "dev",
    sets: [peelsSet(100_000), json("kubernetes", k8sSuper(2))],
    previous: "kubernetes-leaf-top",
  },
];

function runPlan(c: PlanCase, previous: string | undefined): Promise<PlanRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-plan-case-"));
  const args = ["--stack", c.stack, ...c.sets.flatMap((s) => ["--set", s]), "--json"];
  if (previous !== undefined) {
    writeFileSync(path.join(dir, "previous.json"), previous);
    args.push("--previous", path.join(dir, "previous.json"));
  }
  if (c.report !== undefined) {
    writeFileSync(path.join(dir, "report.json"), JSON.stringify(c.report));
    args.push("--transition-report", path.join(dir, "report.json"));
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts", "bin", "run.cjs"), "plan", ...args],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
      },
    );
  });
}

/** Every case, `parallel` at a time; a case waits for the one it reads as `--previous`. */
export async function runCases(cases: PlanCase[], parallel = 2): Promise<Map<string, PlanRun>> {
  const runs = new Map<string, Promise<PlanRun>>();
  let running = 0;
  const queue: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (running < parallel) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => queue.push(resolve));
  };
  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) running--;
    else next();
  };
  const start = (c: PlanCase): Promise<PlanRun> => {
    const made = runs.get(c.name);
    if (made !== undefined) return made;
    const run = (async () => {
      const before = c.previous === undefined ? undefined : cases.find((x) => x.name === c.previous);
      if (c.previous !== undefined && before === undefined) throw new Error(`no case ${c.previous}`);
      const previous = before === undefined ? undefined : await start(before);
      if (previous !== undefined && previous.status !== 0)
        throw new Error(`${c.name}: its previous case ${before?.name ?? ""} failed: ${previous.stderr}`);
      const given = c.previousOutputs === undefined ? undefined : JSON.stringify({ outputs: c.previousOutputs });
      await slot();
      try {
        return await runPlan(c, previous?.stdout ?? given);
      } finally {
        release();
      }
    })();
    runs.set(c.name, run);
    return run;
  };
  const done = await Promise.all(cases.map(async (c) => [c.name, await start(c)] as const));
  return new Map(done);
}

/** What a case printed, with the bundled reconcile replaced by a marker. */
export function withoutBundle(run: PlanRun, bundle = readFileSync(BUNDLE, "utf8")): PlanRun {
  const encoded = JSON.stringify(bundle).slice(1, -1);
  const marker = JSON.stringify(BUNDLE_MARKER).slice(1, -1);
  return { ...run, stdout: run.stdout.split(encoded).join(marker) };
}

/**
 * The bundle's code, module by module, without what moving a source file changes in it: esbuild
 * writes each module's path as a comment before its code, orders modules by where they are found,
 * and numbers the variables it renames apart in that order (`import_kv`, `import_kv3`).
 */
export function bundleCode(bundle = readFileSync(BUNDLE, "utf8")): string {
  const modules: string[][] = [[]];
  for (const line of bundle.split("\n")) {
    if (/^\/\/ [\w./@+-]+\.(ts|js|cjs|mjs|json)$/.test(line)) modules.push([]);
    else modules[modules.length - 1]?.push(line.replace(/\b(import_\w*?)\d+\b/g, "$1"));
  }
  return modules
    .map((lines) => lines.join("\n"))
    .sort()
    .join("\n");
}

export const bundleDigest = (): string => createHash("sha256").update(bundleCode()).digest("hex");

const fixtureFile = (name: string): string => path.join(FIXTURES, `${name}.json.br`);
const BUNDLE_FIXTURE = path.join(FIXTURES, "reconcile-bundle.sha256");

export function readFixture(name: string): PlanRun {
  return JSON.parse(brotliDecompressSync(readFileSync(fixtureFile(name))).toString("utf8")) as PlanRun;
}

export const readBundleFixture = (): string => readFileSync(BUNDLE_FIXTURE, "utf8").trim();

function writeFixture(name: string, run: PlanRun): void {
  const text = Buffer.from(JSON.stringify(run));
  writeFileSync(
    fixtureFile(name),
    brotliCompressSync(text, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: text.length },
    }),
  );
}

/** Every case's fixture (and the bundle's digest), or only the named cases'. */
async function write(only: string[]): Promise<void> {
  // Built once first: the cases run two at a time, and each would otherwise rebuild a stale dist/.
  spawnSync(process.execPath, [path.join(ROOT, "scripts", "bin", "build.cjs")], { stdio: "inherit" });
  const unknown = only.filter((name) => !PLAN_CASES.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`no case ${unknown.join(", ")}`);
  if (only.length === 0) rmSync(FIXTURES, { recursive: true, force: true });
  mkdirSync(FIXTURES, { recursive: true });
  const runs = await runCases(PLAN_CASES.filter((c) => only.length === 0 || neededBy(only, c.name)));
  const bundle = readFileSync(BUNDLE, "utf8");
  for (const c of PLAN_CASES.filter((x) => only.length === 0 || only.includes(x.name))) {
    const run = runs.get(c.name);
    if (run === undefined) throw new Error(`no run of ${c.name}`);
    writeFixture(c.name, withoutBundle(run, bundle));
    process.stdout.write(`${c.name}: exit ${String(run.status)}, ${String(run.stdout.length)} bytes\n`);
  }
  if (only.length === 0) writeFileSync(BUNDLE_FIXTURE, `${bundleDigest()}\n`);
}

/** Whether case `name` is one of `only` or what one of them reads as `--previous`, round about. */
function neededBy(only: string[], name: string): boolean {
  return only.some((wanted) => {
    for (let c = PLAN_CASES.find((x) => x.name === wanted); c !== undefined;) {
      if (c.name === name) return true;
      const previous = c.previous;
      c = previous === undefined ? undefined : PLAN_CASES.find((x) => x.name === previous);
    }
    return false;
  });
}

if (require.main === module)
  write(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
