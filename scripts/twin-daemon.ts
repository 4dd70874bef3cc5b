/**
 * The twin daemon (twin/daemon/): holds one twin and its provider target for a state directory
 * between CLI commands, answering on `<state-dir>/control.sock`. Started by `npm run -s twin --
 * <target> up` (twin/daemon/process.ts), never by hand; ended by `down`. On SIGTERM or SIGINT it
 * ends the twin and leaves its record, so the next command reports it as gone and how to clean up.
 */
import path from "node:path";
import { z } from "zod";
import { controlSocket, serveTwin, type ServedTwin } from "../twin/daemon/server";
import { builtTarget, moduleTarget, TARGETS } from "../twin/targets";
import { parseFlags, runMain, UsageError } from "./cli";
import { planStack } from "./twin-plan";
import { twinTools } from "./twin-tools";
import { rmSync } from "node:fs";

const FlagsSchema = z.object({
  "state-dir": z.string({ message: "--state-dir DIR is required" }),
  target: z.enum(TARGETS, { message: `--target is one of ${TARGETS.join(", ")}` }),
  "target-module": z.string().optional(),
});

async function main(argv: string[]): Promise<number> {
  const parsed = FlagsSchema.safeParse(
    parseFlags(argv, {
      "state-dir": { type: "string" },
      target: { type: "string" },
      "target-module": { type: "string" },
    }),
  );
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "bad flags");
  const flags = parsed.data;
  const dir = path.resolve(flags["state-dir"]);
  const factory =
    flags["target-module"] === undefined ? await builtTarget(flags.target) : moduleTarget(flags["target-module"]);
  if (factory === undefined) throw new UsageError(`the ${flags.target} twin is not built yet`);
  process.stdout.write(`${new Date().toISOString()} twin daemon ${String(process.pid)}: ${flags.target} in ${dir}\n`);
  let served: ServedTwin | undefined;
  const ended = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`${new Date().toISOString()} ${signal}: ending the twin; its record stays for \`down\`\n`);
      void (served?.twin.stop() ?? Promise.resolve()).finally(() => {
        rmSync(controlSocket(dir), { force: true });
        resolve(1);
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    void serveTwin({
      dir,
      tools: twinTools(),
      targetName: flags.target,
      target: factory,
      plan: planStack,
      onDown: () => {
        process.stdout.write(`${new Date().toISOString()} down: everything stopped and removed\n`);
        resolve(0);
      },
    }).then(
      (s) => {
        served = s;
        process.stdout.write(`${new Date().toISOString()} serving on ${controlSocket(dir)}\n`);
      },
      (error: unknown) => {
        process.stderr.write(`the twin could not start: ${error instanceof Error ? error.message : String(error)}\n`);
        resolve(1);
      },
    );
  });
  return ended;
}

runMain("twin-daemon", () => main(process.argv.slice(2)));
