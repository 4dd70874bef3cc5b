/**
 * The pull request workflow (.github/workflows/preview.yml) held to GitHub's published workflow
 * schema (SchemaStore's github-workflow.json, as @action-validator/core ships it), to the plan
 * sources the stacks list follows, and its shell steps to shellcheck.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { PLAN_SOURCES } from "../../preview/changed-stacks";
import { ROOT } from "../helpers/run";
import { shellcheck } from "../helpers/tools";

const FILE = path.join(ROOT, ".github", "workflows", "preview.yml");
const text = readFileSync(FILE, "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: { pull_request: { paths: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[]; env?: Record<string, string> }>;
}
const workflow = parse(text) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);

/** The validator warns that it does not check path globs (GitHub does); only its result counts. */
function validate(workflowText: string) {
  const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  try {
    return validateWorkflow(workflowText);
  } finally {
    warn.mockRestore();
  }
}

test("the workflow is valid against GitHub's workflow schema", () => {
  expect(validate(text).errors).toEqual([]);
});

test("the validator does refuse a broken workflow (a job without runs-on)", () => {
  expect(validate(text.replace(/runs-on: ubuntu-24\.04/g, "runs_on: ubuntu-24.04")).errors.length).toBeGreaterThan(0);
});

test("it runs on pull requests that touch exactly what the plans come from", () => {
  expect(workflow.on.pull_request.paths).toEqual([...PLAN_SOURCES]);
});

test("it may write pull request comments and nothing else", () => {
  expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
});

test("every action is pinned to a version tag, the real preview is Pulumi's own action", () => {
  const uses = steps.map((s) => s.uses).filter((u): u is string => u !== undefined);
  for (const u of uses) expect(u).toMatch(/^[\w-]+\/[\w-]+@v\d+(\.\d+){0,2}$/);
  expect(uses).toContain("pulumi/actions@v6");
  const checkouts = steps.filter((s) => s.uses?.startsWith("actions/checkout@") === true);
  // The base commit is planned too: the whole history.
  for (const c of checkouts) expect(c.with?.["fetch-depth"]).toBe(0);
});

test("the real preview runs only with credentials, the comment is one per stack, a refusal fails the check", () => {
  const named = (name: string) => steps.find((s) => s.name === name);
  expect(named("pulumi preview")?.if).toBe("steps.credentials.outputs.real == 'true'");
  expect(named("Comment on the pull request")?.run).toBe('npm run -s pr-comment -- --stack "$STACK" --body comment.md');
  expect(named("Offline preview")?.run).toMatch(/npm run -s preview -- --stack "\$STACK" --base "\$BASE_SHA"/);
  expect(named("Fail when the change is refused")?.if).toBe("steps.offline.outputs.status == '3'");
});

test("every step says what it does", () => {
  expect(steps.filter((s) => s.name === undefined && s.uses === undefined)).toEqual([]);
});

test.each(steps.filter((s) => s.run !== undefined).map((s) => [s.name ?? "", s.run ?? ""]))(
  "shellcheck passes the step %s",
  (_name, run) => {
    // Expressions are substituted by Actions before the shell runs: a placeholder stands in.
    const script = `#!/bin/bash\nset -e\n${run.replace(/\$\{\{[^}]*\}\}/g, "placeholder")}`;
    const r = shellcheck(script, "bash");
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  },
);
