/**
 * The twins: `npm run -s twin -- <aws|kubernetes> <up|run-job|status|exec|down> [...]`. A twin
 * carries a stack's offline plan out on hosts of its own on this machine (docs/twin.md): a test
 * bed and a rehearsal, never a claim that AWS or a cluster ran. One daemon per state directory
 * keeps the twin running between commands (twin/daemon/); this command line talks to it.
 */
import path from "node:path";
import { z } from "zod";
import { repoRoot } from "../local/repo-root";
import { TwinClient, TwinError } from "../twin/daemon/client";
import { daemonState, downTwin, staleMessage, startDaemon } from "../twin/daemon/process";
import type { TargetIo } from "../twin/daemon/target";
import { builtTarget, TARGETS, type TargetName } from "../twin/targets";
import { parseFlags, runMain, UsageError } from "./cli";

const COMMANDS = ["up", "run-job", "status", "exec", "down"] as const;

const USAGE = `Usage: npm run -s twin -- <aws|kubernetes> <command> [flags]

Carries a stack's offline plan out on a twin of AWS or of a Kubernetes cluster on this machine:
hosts of its own in an unprivileged sandbox (user, network, mount and PID namespaces; no root),
running the very files the plan declares. A test bed and a rehearsal: never a claim that AWS or
a cluster ran. What it runs for real and what it stands in for: docs/twin.md.

One daemon per state directory keeps the twin (its hosts, processes, volumes and load balancers)
running between commands; \`up\` starts it, \`down\` ends it and everything in it.

Commands:
  up --stack NAME [--set key=value ...]   one \`pulumi up\` of the stack on the twin (aws; not built
                                          yet for kubernetes); the hosts install the pinned
                                          nats-server from the twin's mirror, DIR/mirror/<host>/<path>
  run-job                                 the reconcile job the last up deployed, run once
  status [--json]                         { tier, peels, transition, servers, connect }
  exec [--site NAME] -- CMD ...           CMD on the twin's network, as a client in that site's peel
                                          subnet (default the hub's), with this machine's files; its
                                          stdin, stdout, stderr and exit status are CMD's
  down                                    ends the twin (every host and process) and removes its
                                          runtime parts; cleans up after a daemon that died

Flags:
  --state-dir DIR   the twin's state (default .state/twin/<target>)
  --stack NAME      the stack (stacks/Pulumi.NAME.yaml), for up
  --set key=value   a config override, as for plan; repeatable
  --site NAME       for exec: whose peel subnet (default the hub's)
  --json            for status
  -h, --help        show this help

Environment:
  ZESTER_TWIN_TARGET_MODULE=FILE   up starts the daemon with FILE's createTarget(twin) in place of
                                   the built target (a target under development, or a test's)

Exit status: 0 done; 1 failed (as \`pulumi up\` fails; a twin whose daemon died); 2 bad input, no
twin running, or a command not built yet; exec: the command's own.
The kernel must allow unprivileged user namespaces (docs/twin.md).`;

const PositionalsSchema = z.tuple([
  z.enum(TARGETS, { message: `the first word is the twin: ${TARGETS.join(" or ")}` }),
  z.enum(COMMANDS, { message: `the second word is the command: ${COMMANDS.join(", ")}` }),
]);

const io: TargetIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** The running twin's client; a UsageError when none runs, an Error when one died. */
async function running(dir: string, target: TargetName): Promise<TwinClient> {
  const state = await daemonState(dir);
  if (state.kind === "none")
    throw new UsageError(
      `no ${target} twin runs in ${dir}: start one with \`npm run -s twin -- ${target} up --stack NAME\``,
    );
  if (state.kind === "stale") throw new Error(staleMessage(dir, target, state.why));
  if (state.target !== target)
    throw new UsageError(
      `the twin in ${dir} is the ${state.target} twin, not ${target}: use \`twin ${state.target} …\` or another --state-dir`,
    );
  return new TwinClient(dir);
}

async function up(dir: string, target: TargetName, stack: string | undefined, set: string[]): Promise<number> {
  if (stack === undefined) throw new UsageError("up needs --stack NAME (stacks/Pulumi.NAME.yaml)");
  const state = await daemonState(dir);
  if (state.kind === "stale") throw new Error(staleMessage(dir, target, state.why));
  let client: TwinClient;
  if (state.kind === "running") client = await running(dir, target);
  else {
    const targetModule = process.env.ZESTER_TWIN_TARGET_MODULE;
    if (targetModule === undefined && (await builtTarget(target)) === undefined) {
      process.stderr.write(
        `twin: \`${target} up\` is not built yet: the ${target} twin's providers come with its own work (docs/twin.md)\n`,
      );
      return 2;
    }
    process.stderr.write(`Starting the ${target} twin's daemon in ${dir} …\n`);
    client = await startDaemon({ dir, target, ...(targetModule === undefined ? {} : { targetModule }) });
  }
  return client.up({ stack, set }, io);
}

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
  const dir = path.resolve(values["state-dir"] ?? path.join(repoRoot(), ".state", "twin", target));
  if (verb !== "exec" && command.length > 0) throw new UsageError(`${verb} takes no command after --`);
  try {
    switch (verb) {
      case "up":
        return await up(dir, target, values.stack, values.set ?? []);
      case "run-job":
        return await (await running(dir, target)).runJob(io);
      case "status": {
        const client = await running(dir, target);
        if (values.json !== true) return await client.statusText(io);
        process.stdout.write(`${JSON.stringify(await client.status(), null, 2)}\n`);
        return 0;
      }
      case "exec":
        if (command.length === 0) throw new UsageError("exec needs a command after --, e.g. exec -- nats server ls");
        return await (await running(dir, target)).exec(values.site, command);
      case "down": {
        const done = await downTwin(dir);
        const said = {
          down: `The ${target} twin in ${dir} is down: every host and process ended, its runtime parts removed.`,
          cleaned: `The ${target} twin in ${dir} had died; what was left of it is ended and removed.`,
          none: `No ${target} twin ran in ${dir}; nothing to end.`,
        };
        process.stdout.write(`${said[done]}\n`);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof TwinError && error.status === 2) throw new UsageError(error.message);
    throw error;
  }
}

runMain("twin", () => main(process.argv.slice(2)));
