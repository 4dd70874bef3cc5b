/**
 * The twins: `npm run -s twin -- <aws|kubernetes> <up|run-job|status|exec|down> [...]`. A twin
 * carries a stack's offline plan out on hosts of its own on this machine (docs/twin.md): a test
 * bed and a rehearsal, never a claim that AWS or a cluster ran.
 */
import path from "node:path";
import { z } from "zod";
import { repoRoot } from "../local/repo-root";
import { down, runningTwin } from "../twin/host/running";
import { parseFlags, runMain, UsageError } from "./cli";

const TARGETS = ["aws", "kubernetes"] as const;
const COMMANDS = ["up", "run-job", "status", "exec", "down"] as const;
/** What the target-specific twins add (issues 18 and 19): until then these answer exit 2. */
const NOT_BUILT: readonly string[] = ["up", "run-job", "status"];

const USAGE = `Usage: npm run -s twin -- <aws|kubernetes> <command> [flags]

Carries a stack's offline plan out on a twin of AWS or of a Kubernetes cluster on this machine:
hosts of its own in an unprivileged sandbox (user, network, mount and PID namespaces; no root),
running the very files the plan declares. A test bed and a rehearsal: never a claim that AWS or
a cluster ran. What it runs for real and what it stands in for: docs/twin.md.

Commands:
  up --stack NAME [--set key=value ...]   one \`pulumi up\` of the stack on the twin (not built yet)
  run-job                                 the reconcile job the last up deployed, run once (not built yet)
  status [--json]                         { tier, peels, transition, servers, connect } (not built yet)
  exec [--site NAME] -- CMD ...           CMD on the twin's network, as a host in that site's peel
                                          subnet, with this machine's files (needs a running twin)
  down                                    ends the twin (every host and process) and removes its state

Flags:
  --state-dir DIR   the twin's state (default .state/twin/<target>)
  --stack NAME      the stack (stacks/Pulumi.NAME.yaml), for up
  --set key=value   a config override, as for plan; repeatable
  --site NAME       for exec: whose peel subnet (default the hub's)
  --json            for status
  -h, --help        show this help

Exit status: 0 done, 1 failed (as \`pulumi up\` fails), 2 bad input or a command not built yet.
The kernel must allow unprivileged user namespaces (docs/twin.md).`;

const PositionalsSchema = z.tuple([
  z.enum(TARGETS, { message: `the first word is the twin: ${TARGETS.join(" or ")}` }),
  z.enum(COMMANDS, { message: `the second word is the command: ${COMMANDS.join(", ")}` }),
]);

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf("--");
  const [own, command] = dash < 0 ? [argv, []] : [argv.slice(0, dash), argv.slice(dash + 1)];
  const words = own.filter((a) => !a.startsWith("-"));
  if (own.includes("--help") || own.includes("-h") || own.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parsed = PositionalsSchema.safeParse(words.slice(0, 2));
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "expected <aws|kubernetes> <command>");
  const [target, verb] = parsed.data;
  const values = parseFlags(
    own.filter((a) => a !== target && a !== verb),
    {
      "state-dir": { type: "string" },
      stack: { type: "string" },
      set: { type: "string", multiple: true },
      site: { type: "string" },
      json: { type: "boolean" },
    },
  );
  const stateDir = path.resolve(values["state-dir"] ?? path.join(repoRoot(), ".state", "twin", target));
  if (NOT_BUILT.includes(verb)) {
    process.stderr.write(
      `twin: \`${target} ${verb}\` is not built yet: the ${target} twin's providers come with its own work (docs/twin.md)\n`,
    );
    return 2;
  }
  if (verb === "down") {
    const ran = await down(stateDir);
    process.stdout.write(
      ran
        ? `The ${target} twin in ${stateDir} is down.\n`
        : `No ${target} twin ran in ${stateDir}; its state is removed.\n`,
    );
    return 0;
  }
  // exec
  if (command.length === 0) throw new UsageError("exec needs a command after --, e.g. exec -- nats server ls");
  if (runningTwin(stateDir) === undefined)
    throw new UsageError(`no ${target} twin runs in ${stateDir}: start one with \`twin ${target} up\` first`);
  throw new UsageError(`exec into a running ${target} twin comes with its \`up\` (not built yet)`);
}

runMain("twin", () => main(process.argv.slice(2)));
