/**
 * Where a twin records its running sandbox (`<state>/twin.json`), so `exec` and `down` of another
 * process find it; and `down`: the sandbox's first process ended (everything in it ends with it)
 * and the state directory removed.
 */
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { removeTree } from "./sandbox";

const RunningSchema = z.object({
  /** The sandbox's first process, as this machine's PIDs see it. */
  pid: z.number().int().positive(),
  /** Its user namespace (`user:[…]`), so a reused PID is never taken for it. */
  userNamespace: z.string(),
});
export type Running = z.infer<typeof RunningSchema>;

export const runningFile = (stateDir: string): string => path.join(stateDir, "twin.json");

/** The twin running in `stateDir`, or undefined when none is (no record, or its process is gone). */
export function runningTwin(stateDir: string): Running | undefined {
  const file = runningFile(stateDir);
  if (!existsSync(file)) return undefined;
  const parsed = RunningSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file} is not a twin's record: remove it, or run \`down\``);
  try {
    return readlinkSync(`/proc/${String(parsed.data.pid)}/ns/user`) === parsed.data.userNamespace
      ? parsed.data
      : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the twin in `stateDir` (if one runs) and removes the directory. Returns whether one ran. */
export async function down(stateDir: string): Promise<boolean> {
  const running = runningTwin(stateDir);
  if (running !== undefined) {
    process.kill(running.pid, "SIGKILL");
    const deadline = Date.now() + 10_000;
    while (runningTwin(stateDir) !== undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }
  removeTree(stateDir);
  return running !== undefined;
}
