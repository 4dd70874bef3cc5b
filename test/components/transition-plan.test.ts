/**
 * A tier transition on the cloud targets through the offline plan, as an operator runs it: each
 * `plan --previous` stands for one `pulumi up` over the last one's outputs. cluster-3 → cluster-5
 * (2,000 → 12,000 peels): expand declares the five servers while the job keeps cluster-3's buckets;
 * move hands the job the transition; the update after it is refused (exit 2) until the job's
 * report is read back, then the transition is finished. Every `transition` output is the contract
 * (TransitionOutputSchema); the preview shows the steps.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ReconcileJobSchema, type ReconcileJob } from "../../jetstream/cluster-job";
import type { Preview } from "../../preview/preview";
import type { TransitionReport } from "../../change/phased";
import { TransitionOutputSchema, type TransitionOutput } from "../../change/transition-output";
import { planOf, runPlanOver } from "../helpers/plans";
import { runScript, type Run } from "../helpers/run";

interface Resource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
interface Plan {
  outputs: { transition?: TransitionOutput | null; deployment: { tier: string; servers: { name: string }[] } };
  resources: Resource[];
}

const NVME = `kubernetes=${JSON.stringify({ nvmeStorageClass: "local-nvme" })}`;
const TARGETS = {
  aws: { stack: "staging", sets: [] as string[] },
  kubernetes: { stack: "dev", sets: [NVME] },
};
type Target = keyof typeof TARGETS;

function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function parsed(r: Run): Plan {
  if (r.status !== 0) throw new Error(`plan failed (${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Plan;
}

/** The job each target hands its reconcile: the Lambda's environment, the Secret's `job`. */
function jobOf(p: Plan): ReconcileJob {
  const lambda = p.resources.find((r) => r.type === "aws:lambda/function:Function");
  const secret = p.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("kv-reconcile-job"));
  const text =
    lambda !== undefined
      ? (lambda.inputs.environment as { variables: Record<string, string> }).variables.ZESTER_RECONCILE_JOB
      : (secret?.inputs.stringData as Record<string, string> | undefined)?.job;
  if (text === undefined) throw new Error("no reconcile job in the plan");
  return ReconcileJobSchema.parse(JSON.parse(text));
}

function transitionOf(p: Plan): TransitionOutput {
  const t = p.outputs.transition;
  if (t === undefined || t === null) throw new Error("no transition output");
  return TransitionOutputSchema.parse(t);
}

const REPORT: TransitionReport = {
  version: 1,
  from: { tier: "cluster-3", peels: 2_000 },
  to: { tier: "cluster-5", peels: 12_000 },
  phase: "move",
  done: ["05-set-limits"],
  at: "2026-11-27T15:00:00.000Z",
};

describe.each<Target>(["aws", "kubernetes"])("%s: cluster-3 → cluster-5, one phase per update", (target) => {
  const { stack, sets } = TARGETS[target];
  const at = (peels: number) => [`peels=${String(peels)}`, ...sets];
  // Planned when a test first asks (each plan is a process of about 2 s), then kept.
  const deployed = lazy(() => planOf(stack, at(2_000)) as Plan);
  const expand = lazy(() => parsed(runPlanOver(deployed(), stack, at(12_000))));
  const move = lazy(() => parsed(runPlanOver(expand(), stack, at(12_000))));

  test("expand: the five servers declared, the job still reconciling cluster-3's buckets, no transition in it", () => {
    expect(transitionOf(expand())).toMatchObject({
      from: { tier: "cluster-3", peels: 2_000 },
      to: { tier: "cluster-5", peels: 12_000 },
      phase: "expand",
      phases: ["expand", "move"],
    });
    expect(transitionOf(expand()).steps.map((s) => `${s.id} ${s.phase}`)).toEqual([
      "01-restart expand",
      "02-restart expand",
      "03-restart expand",
      "04-add-servers expand",
      "05-set-limits move",
    ]);
    expect(expand().outputs.deployment.servers.map((s) => s.name)).toEqual([
      "core-0",
      "core-1",
      "core-2",
      "core-3",
      "core-4",
    ]);
    const job = jobOf(expand());
    expect([job.clusterSize, job.transition]).toEqual([3, undefined]);
    expect(job.buckets).toEqual(jobOf(deployed()).buckets);
  });

  test("move: the job gets cluster-5's buckets and the step to report, and the output names where the report is", () => {
    const t = transitionOf(move());
    expect(t.phase).toBe("move");
    const job = jobOf(move());
    expect(job.clusterSize).toBe(5);
    expect(job.buckets).not.toEqual(jobOf(deployed()).buckets);
    const where =
      target === "aws"
        ? { ssmParameter: "/zester/zester-infra-staging/zester/kv-reconcile/transition", region: "eu-west-1" }
        : { configMap: "zester-transition", namespace: "zester" };
    expect(job.transition).toEqual({
      from: REPORT.from,
      to: REPORT.to,
      phase: "move",
      steps: [{ id: "05-set-limits", kind: "set-limits" }],
      report: where,
    });
    expect(t.waitingFor).toContain(
      target === "aws"
        ? `SSM parameter ${where.ssmParameter ?? ""} in eu-west-1`
        : "ConfigMap zester/zester-transition",
    );
  });

  test("the update after move is refused (exit 2) until the job's report is there, naming what it waits for", () => {
    const r = runPlanOver(move(), stack, at(12_000));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "refused: the tier transition cluster-3 (2000 peels) → cluster-5 (12000 peels) waits for its data to move",
    );
    expect(r.stderr).toContain(transitionOf(move()).waitingFor ?? "a waitingFor");
    expect(r.stderr).toContain("no report has been written yet");
    const early = runPlanOver(move(), stack, at(12_000), { ...REPORT, done: [] });
    expect(early.status).toBe(2);
  });

  test("with the report, the transition is finished: the output null, the job without it", () => {
    const done = parsed(runPlanOver(move(), stack, at(12_000), REPORT));
    expect(done.outputs.transition).toBeNull();
    expect(done.outputs.deployment.tier).toBe("cluster-5");
    expect(jobOf(done).transition).toBeUndefined();
    expect(jobOf(done).buckets).toEqual(jobOf(move()).buckets);
    const after = parsed(runPlanOver(done, stack, at(12_000)));
    expect(after.outputs.transition).toBeUndefined();
  });

  test("another peel count while the transition is under way is refused, naming how to finish it", () => {
    const r = runPlanOver(expand(), stack, at(2_000));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "a tier transition cluster-3 (2000 peels) → cluster-5 (12000 peels) is under way (its expand phase applied)",
    );
    expect(r.stderr).toContain("set zester:peels back to 12000");
  });
});

test("aws: where the job writes its report, the function may write, and nothing else", () => {
  const move = parsed(
    runPlanOver(parsed(runPlanOver(planOf("staging", ["peels=2000"]), "staging", ["peels=12000"])), "staging", [
      "peels=12000",
    ]),
  );
  const policy = move.resources.find(
    (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("kv-reconcile-seed"),
  );
  const statements = (
    JSON.parse(String(policy?.inputs.policy)) as { Statement: { Action: string[]; Resource: string }[] }
  ).Statement;
  expect(statements).toContainEqual({
    Effect: "Allow",
    Action: ["ssm:PutParameter"],
    Resource: "arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/kv-reconcile/transition",
  });
});

test("aws: the move phase's function environment, transition included, stays within Lambda's 4 KB", () => {
  const move = parsed(
    runPlanOver(parsed(runPlanOver(planOf("staging", ["peels=2000"]), "staging", ["peels=12000"])), "staging", [
      "peels=12000",
    ]),
  );
  const lambda = move.resources.find((r) => r.type === "aws:lambda/function:Function");
  const variables = (lambda?.inputs.environment as { variables: Record<string, string> }).variables;
  const bytes = Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  expect(bytes).toBeLessThanOrEqual(4_096);
});

test("kubernetes: the report's ConfigMap, and a Role that lets the job's ServiceAccount patch that one only", () => {
  const plan = planOf("dev", ["peels=2000"]) as Plan;
  const of = (type: string) => plan.resources.filter((r) => r.type === type);
  expect(of("kubernetes:core/v1:ConfigMap").map((r) => r.inputs.metadata)).toContainEqual({
    name: "zester-transition",
    namespace: "zester",
  });
  expect(of("kubernetes:rbac.authorization.k8s.io/v1:Role").map((r) => r.inputs.rules)).toEqual([
    [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["zester-transition"], verbs: ["get", "patch"] }],
  ]);
  const cron = of("kubernetes:batch/v1:CronJob")[0]?.inputs.spec as {
    jobTemplate: { spec: { template: { spec: { serviceAccountName: string } } } };
  };
  expect(cron.jobTemplate.spec.template.spec.serviceAccountName).toBe("kv-reconcile");
});

test("single → cluster-3 is still refused on both targets, naming the steps the cloud lacks", () => {
  for (const [target, { stack, sets }] of Object.entries(TARGETS)) {
    const r = runPlanOver(planOf(stack, ["peels=500", ...sets]), stack, ["peels=2000", ...sets]);
    expect([target, r.status]).toEqual([target, 2]);
    expect(r.stderr).toMatch(/- \[data-loss\] core-0 runs alone/);
    expect(r.stderr).toContain(
      "A tier transition from single to cluster-3 needs steps the cloud targets do not carry out yet: add-cluster (01-add-cluster); copy-data (02-copy-data); cut-over (03-cut-over); delete-data (05-delete-data)",
    );
  }
});

test("the preview of 2,000 → 12,000 over what is deployed shows the transition, its phase and every step", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-transition-preview-"));
  try {
    const base = path.join(dir, "base.json");
    writeFileSync(base, JSON.stringify(planOf("staging", ["peels=2000"])));
    const args = ["--stack", "staging", "--set", "peels=12000", "--previous", base];
    const json = JSON.parse(runScript("preview", [...args, "--format", "json"]).stdout) as Preview;
    expect(json.transition).toMatchObject({ phase: "expand", phases: ["expand", "move"] });
    const text = runScript("preview", args).stdout;
    expect(text).toContain("### Transition: `cluster-3` (2,000 peels) → `cluster-5` (12,000 peels)");
    expect(text).toContain(
      "Phase `expand` (1 of 2: expand → move), one per `pulumi up`; the next waits for: this update's servers healthy",
    );
    expect(text).toMatch(/\| move \| 05-set-limits \| set-limits \| core-0, core-1, core-2, core-3, core-4 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
