/**
 * `npm run -s preview -- --stack NAME [--set key=value …] [--base REF | --previous PLAN.json]
 * [--format markdown|json]`: what a change does to a stack's fleet, as a pull request comment
 * shows it. The base's plan (a git ref's code and stack file, or an earlier `plan --json`) is
 * compared with this working tree's, planned over it as `pulumi up` would plan over what is
 * deployed, so a change that would lose data or quorum is refused here as it would be there.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../local/repo-root";
import { renderForComment } from "../preview/markdown";
import { parsePlanJson, type PlanJson } from "../preview/plan-json";
import { buildPreview } from "../preview/preview";
import { parseFlags, runMain, UsageError } from "./cli";
import { basePlan, defaultBase, resolveCommit } from "./preview-base";

const USAGE = `Usage: npm run -s preview -- --stack NAME [--set key=value ...] [--base REF | --previous PLAN.json] [--format markdown|json]

Plans the stack at the base and in this working tree (offline, under Pulumi's mocks) and prints
what the change does: the tier before and after, each server's resources, the resources created,
updated, replaced and deleted with their risks (data-loss, quorum, restart, exposure, reload),
what is refused and why, the scaling guide's checklist items the new tier adds, and both
topologies as Mermaid diagrams.

  --stack NAME        the stack (stacks/Pulumi.NAME.yaml)
  --set key=value     override one config value of the working tree's plan, as \`plan\` takes it
                      (the key may omit "zester:"); repeatable
  --base REF          the git ref whose code and stack file are the base
                      (default: the merge base with origin/HEAD, else with main)
  --previous FILE     the base as an earlier \`plan --json\` instead of a git ref
  --format FORMAT     markdown (default) or json
  -h, --help          show this help

Exit status: 0 previewed, nothing refused; 3 previewed, and the change is refused; 2 bad input;
1 anything else (a plan that failed).`;

const FORMATS = ["markdown", "json"] as const;

/** Exit status of a preview whose change is refused: the preview itself went fine. */
const REFUSED_STATUS = 3;

interface Before {
  plan: PlanJson | null;
  /** The plan as it was read, handed to the working tree's plan whole (the preview reads only part of it). */
  raw: unknown;
  description: string;
}

function main(argv: string[]): number {
  const values = parseFlags(argv, {
    stack: { type: "string" },
    set: { type: "string", multiple: true },
    base: { type: "string" },
    previous: { type: "string" },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = repoRoot();
  const stack = checkedStack(root, values.stack);
  const format = values.format ?? "markdown";
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format: must be markdown or json; got ${JSON.stringify(format)}`);
  if (values.base !== undefined && values.previous !== undefined)
    throw new UsageError("--base and --previous: give one of them, the base as a git ref or as a plan file");
  const before =
    values.previous === undefined ? beforeAtRef(root, stack, values.base) : beforeFromFile(values.previous);
  const sets = values.set ?? [];
  const after = plannedOver(root, stack, sets, before.plan === null ? null : before.raw);
  const preview = buildPreview({
    stack,
    base: before.description,
    before: before.plan,
    after: after.plan,
    refused: after.refused,
  });
  process.stdout.write(format === "json" ? `${JSON.stringify(preview, null, 2)}\n` : renderForComment(preview));
  return preview.refused === null ? 0 : REFUSED_STATUS;
}

function checkedStack(root: string, stack: string | undefined): string {
  if (stack === undefined) throw new UsageError("--stack is required: the NAME of a stacks/Pulumi.NAME.yaml");
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !existsSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`)))
    throw new UsageError(`--stack: no stack "${stack}"; there is no stacks/Pulumi.${stack}.yaml`);
  return stack;
}

function beforeFromFile(file: string): Before {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(
      `--previous: cannot read ${file} as JSON (${error instanceof Error ? error.message : String(error)}); give the output of an earlier \`plan --json\``,
    );
  }
  try {
    return { plan: parsePlanJson(json, file), raw: json, description: `the plan in ${file}` };
  } catch (error) {
    throw new UsageError(`--previous: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function beforeAtRef(root: string, stack: string, ref: string | undefined): Before {
  const base =
    ref === undefined
      ? defaultBase(root)
      : (() => {
          const commit = resolveCommit(root, ref);
          if (commit === undefined)
            throw new UsageError(
              `--base: ${JSON.stringify(ref)} names no commit in this repository; give a branch, tag or commit`,
            );
          return { ref, commit };
        })();
  if (base === undefined)
    throw new UsageError(
      "--base: no default branch to compare with (neither origin/HEAD nor main); give --base REF or --previous PLAN.json",
    );
  const { plan, dependenciesDiffer } = basePlan(root, base.commit, stack);
  const what = `${base.ref === base.commit ? "" : `${base.ref}, `}commit ${base.commit.slice(0, 12)}`;
  const note = dependenciesDiffer
    ? " (its package-lock.json differs from this checkout's: it was planned with this checkout's dependencies)"
    : "";
  return {
    plan: plan === null ? null : parsePlanJson(plan, `the base's plan (${what})`),
    raw: plan,
    description: plan === null ? `${what}, which has no stack ${stack} (a new stack)` : `${what}${note}`,
  };
}

interface After {
  plan: PlanJson;
  refused: string | null;
}

/** This working tree's plan, over the base's as what is deployed; when that is refused, the plan alone. */
function plannedOver(root: string, stack: string, sets: string[], before: unknown): After {
  if (before === null) return { plan: plannedAlone(root, stack, sets), refused: null };
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-preview-"));
  try {
    const file = path.join(dir, "base.json");
    writeFileSync(file, JSON.stringify(before));
    const over = planned(root, stack, sets, file);
    if ("plan" in over) return { plan: over.plan, refused: null };
    return { plan: plannedAlone(root, stack, sets), refused: over.refused };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function plannedAlone(root: string, stack: string, sets: string[]): PlanJson {
  const run = planned(root, stack, sets, undefined);
  if ("plan" in run) return run.plan;
  throw new Error(`the plan of ${stack} refused a change with nothing deployed: ${run.refused}`);
}

type PlanRun = { plan: PlanJson } | { refused: string };

function planned(root: string, stack: string, sets: string[], previous: string | undefined): PlanRun {
  const args = [
    "plan",
    "--stack",
    stack,
    ...sets.flatMap((s) => ["--set", s]),
    ...(previous === undefined ? [] : ["--previous", previous]),
    "--json",
  ];
  const run = spawnSync(process.execPath, [path.join(root, "scripts", "bin", "run.cjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const message = run.stderr
    .replace(/^plan: /, "")
    .replace(/\n\nRun with --help for usage\.\n?$/, "")
    .trim();
  if (run.status === 2 && message.startsWith("refused:")) return { refused: message };
  if (run.status === 2)
    throw new UsageError(`${sets.length > 0 ? "--set" : "--stack"}: the plan refuses the config: ${message}`);
  if (run.status !== 0) throw new Error(`the plan of ${stack} failed (exit ${String(run.status)}): ${message}`);
  return { plan: parsePlanJson(JSON.parse(run.stdout), `the plan of ${stack}`) };
}

runMain("preview", () => main(process.argv.slice(2)));
