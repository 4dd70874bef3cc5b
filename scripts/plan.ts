/**
 * The offline plan: `npm run -s plan -- --stack NAME [--set key=value ...] [--json]`.
 * Runs the Pulumi program under Pulumi's own mocks (no CLI, no credentials, no network) with a
 * stack's config plus overrides, and prints the stack outputs and every resource registered.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ChangeRefused } from "../change/change";
import { runProgramWithMocks, type PlannedResource } from "./plan-mocks";
import { parseFlags, runMain, UsageError } from "./cli";
import { stackConfig } from "./stack-file";
import { parseReport } from "../change/phased";
import { ConfigError, NAMESPACE } from "../stacks/config";
import type { StackOutputs } from "../stacks/program";
import type { Unwrap } from "@pulumi/pulumi";

const USAGE = `Usage: npm run -s plan -- --stack NAME [--set key=value ...] [--previous PLAN.json]
       [--transition-report REPORT.json] [--json]

Runs the Pulumi program offline under Pulumi's mocks with stacks/Pulumi.NAME.yaml, and prints
the stack outputs and every resource the program registers. Nothing is created.

  --stack NAME        the stack (stacks/Pulumi.NAME.yaml)
  --set key=value     override one config value, as \`pulumi config set\` would; the key may
                      omit the "${NAMESPACE}:" namespace; structured values are JSON
                      (e.g. --set 'leafSites=[{"name":"dmz"}]'); repeatable
  --previous FILE     what is deployed: an earlier \`plan --json\` (its outputs are what the
                      program reads back from the stack); a change that would lose data or
                      quorum is then refused, as \`pulumi up\` would refuse it; a tier
                      transition applies one phase per plan (its \`transition\` output)
  --transition-report FILE
                      the reconcile job's report that a transition's data moved, as the
                      stack reads it back (AWS: the SSM parameter; Kubernetes: the
                      ConfigMap); without it, none has been written
  --json              print { "outputs": {...}, "resources": [{ type, name, urn, parent,
                      aliases, custom, provider, readId, dependencies, options,
                      inputs }] }
  -h, --help          show this help

Exit status: 0 on success, 2 on bad input, invalid stack config or a refused change.`;

function printReadable(outputs: Unwrap<StackOutputs>, resources: PlannedResource[]): string {
  const lines = ["Outputs:"];
  for (const [key, value] of Object.entries(outputs)) {
    if (key !== "sizing" && key !== "aws" && key !== "kubernetes") lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  if (outputs.aws !== undefined) {
    const aws = outputs.aws;
    lines.push(`  aws.clientUrl: ${aws.clientUrl}`);
    if (aws.leafUrls.length > 0) lines.push(`  aws.leafUrls: ${aws.leafUrls.join(", ")}`);
    lines.push("  aws.servers:");
    for (const x of aws.servers)
      lines.push(`    ${x.name}  ${x.awsRegion}/${x.az}  ${x.instanceType}  ${x.dnsName}  ${x.volume}`);
    lines.push(`  aws.checklist:${aws.checklist.length === 0 ? " (nothing at this tier)" : ""}`);
    for (const c of aws.checklist) lines.push(`    [${c.status}] ${c.item}: ${c.how}`);
    lines.push(`  aws.peelBootstrap: ${Object.keys(aws.peelBootstrap).join(", ")} (secret; --json prints them)`);
  }
  if (outputs.kubernetes !== undefined) {
    const k = outputs.kubernetes;
    lines.push(
      `  kubernetes.clientUrl: ${k.clientUrl}`,
      `  kubernetes.namespace: ${k.namespace}`,
      "  kubernetes.servers:",
    );
    for (const x of k.servers) lines.push(`    ${x.name}  ${x.region}  ${x.namespace}  ${x.dnsName}`);
    lines.push(`  kubernetes.checklist:${k.checklist.length === 0 ? " (nothing at this tier)" : ""}`);
    for (const c of k.checklist) lines.push(`    [${c.status}] ${c.item}: ${c.how}`);
    lines.push(`  kubernetes.peelConfigs: ${Object.keys(k.peelConfigs).join(", ")} (secret; --json prints them)`);
  }
  lines.push("  sizing: (the plan below; --json prints it whole)", "");
  const tables = (require("./sizing-tables") as typeof import("./sizing-tables")).renderPlanTables(outputs.sizing);
  lines.push(tables, `Resources: ${resources.length}`);
  for (const r of resources)
    lines.push(`  ${r.type}  ${r.name}${r.parent === undefined ? "" : `  (parent ${r.parent})`}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Pulumi's runtime records a stack trace for every promise it makes (for a report of promises left
 * pending, printed only with PULUMI_DEBUG_PROMISE_LEAKS), tens of thousands in a large plan: a
 * quarter of the largest tier's plan. This process prints an error's message, never its stack.
 */
function withoutStackTraces(): void {
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS === undefined) Error.stackTraceLimit = 0;
}

async function main(argv: string[]): Promise<number> {
  withoutStackTraces();
  const values = parseFlags(argv, {
    stack: { type: "string" },
    set: { type: "string", multiple: true },
    previous: { type: "string" },
    "transition-report": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.stack === undefined) throw new UsageError("--stack is required: the NAME of a stacks/Pulumi.NAME.yaml");
  const { project, config } = stackConfig(values.stack, values.set ?? []);
  const previousOutputs = values.previous === undefined ? undefined : readPrevious(values.previous);
  const report = values["transition-report"];
  const transitionReport = report === undefined ? undefined : readReport(report);
  const { outputs, resources } = await runProgramWithMocks(project, values.stack, config, {
    ...(previousOutputs === undefined ? {} : { previousOutputs }),
    ...(transitionReport === undefined ? {} : { transitionReport }),
  });
  process.stdout.write(
    values.json === true ? `${JSON.stringify({ outputs, resources }, null, 2)}\n` : printReadable(outputs, resources),
  );
  return 0;
}

const PreviousSchema = z.object({ outputs: z.record(z.string(), z.unknown()) });

/** An earlier `plan --json`: its outputs are what the stack reads back from its last update. */
function readPrevious(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--previous: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--previous: ${file} is not JSON; give the output of an earlier \`plan --json\``);
  }
  const parsed = PreviousSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`--previous: ${file} has no "outputs" object; give the output of an earlier \`plan --json\``);
  return parsed.data.outputs;
}

/** A report file, checked here so a wrong one is named as this flag's. */
function readReport(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `--transition-report: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    parseReport(text, file);
  } catch (error) {
    throw new UsageError(`--transition-report: ${error instanceof Error ? error.message : String(error)}`);
  }
  return text;
}

// Invalid stack config and a refused change are refused input (exit 2), the message naming why.
runMain(
  "plan",
  () => main(process.argv.slice(2)),
  (error) => error instanceof ConfigError || error instanceof ChangeRefused,
);
