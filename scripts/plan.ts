/**
 * The offline plan: `npm run -s plan -- --stack NAME [--set key=value ...] [--json]`.
 * Runs the Pulumi program under Pulumi's own mocks (no CLI, no credentials, no network) with a
 * stack's config plus overrides, and prints the stack outputs and every resource registered.
 */
import { parseArgs } from "node:util";
import { runProgramWithMocks, type PlannedResource } from "./plan-mocks";
import { stackConfig, UsageError } from "./stack-file";
import { ConfigError, NAMESPACE } from "../stacks/config";
import type { StackOutputs } from "../stacks/program";

const USAGE = `Usage: npm run -s plan -- --stack NAME [--set key=value ...] [--json]

Runs the Pulumi program offline under Pulumi's mocks with stacks/Pulumi.NAME.yaml, and prints
the stack outputs and every resource the program registers. Nothing is created.

  --stack NAME        the stack (stacks/Pulumi.NAME.yaml)
  --set key=value     override one config value, as \`pulumi config set\` would; the key may
                      omit the "${NAMESPACE}:" namespace; structured values are JSON
                      (e.g. --set 'leafSites=[{"name":"dmz"}]'); repeatable
  --json              print { "outputs": {...}, "resources": [{ type, name, parent, inputs }] }
  -h, --help          show this help

Exit status: 0 on success, 2 on bad input or invalid stack config.`;

function printReadable(outputs: StackOutputs, resources: PlannedResource[]): string {
  const lines = ["Outputs:"];
  for (const [key, value] of Object.entries(outputs)) {
    if (key !== "sizing") lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  lines.push("  sizing: (the plan below; --json prints it whole)", "");
  const tables = (require("./sizing-tables") as typeof import("./sizing-tables")).renderPlanTables(outputs.sizing);
  lines.push(tables, `Resources: ${resources.length}`);
  for (const r of resources)
    lines.push(`  ${r.type}  ${r.name}${r.parent === undefined ? "" : `  (parent ${r.parent})`}`);
  if (resources.length === 0) lines.push("  (none: no target's components register resources yet)");
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<void> {
  let values: { stack?: string; set?: string[]; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        set: { type: "string", multiple: true },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.stack === undefined) throw new UsageError("--stack is required: the NAME of a stacks/Pulumi.NAME.yaml");
  const { project, config } = stackConfig(values.stack, values.set ?? []);
  const { outputs, resources } = await runProgramWithMocks(project, values.stack, config);
  process.stdout.write(
    values.json === true ? `${JSON.stringify({ outputs, resources }, null, 2)}\n` : printReadable(outputs, resources),
  );
}

main(process.argv.slice(2)).then(
  // Pulumi's runtime keeps handles open after a mocked run: leave explicitly.
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`plan: ${error.message}\n\nRun with --help for usage.\n`);
    } else if (error instanceof ConfigError) {
      process.stderr.write(`plan: invalid stack config:\n${error.message}\n`);
    } else {
      process.stderr.write(`plan: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    }
    process.exit(2);
  },
);
