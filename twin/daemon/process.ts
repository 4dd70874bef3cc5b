/**
 * The twin daemon as a process of its own: one per state directory, started by the CLI's `up`,
 * found by later commands through its socket and record (`control.sock`, `twin.json`), ended by
 * `down`. A daemon that died is found out (its record names a pid that is gone, or one that does
 * not answer) and reported with the way to clean up; `down` then ends whatever of it is left (every
 * process in its sandbox's user namespace, by pid) and removes the runtime parts it owned.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import { TwinClient } from "./client";
import { RecordSchema, type DaemonRecord } from "./protocol";
import { answers, controlSocket, recordFile, removeParts } from "./server";
import { RUNTIME_PARTS } from "./twin";

export type DaemonState =
  | { kind: "none" }
  | { kind: "running"; target: string; pid: number }
  | { kind: "stale"; record?: DaemonRecord; why: string };

export const daemonLog = (dir: string): string => path.join(dir, "daemon.log");

function readRecord(dir: string): DaemonRecord | undefined {
  const file = recordFile(dir);
  if (!existsSync(file)) return undefined;
  const parsed = RecordSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

/** Whether a process runs (a zombie, dead and not yet reaped by its parent, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Whether a twin runs in `dir`, none does, or one died there. */
export async function daemonState(dir: string): Promise<DaemonState> {
  const socket = controlSocket(dir);
  const record = readRecord(dir);
  if (existsSync(socket) && (await answers(socket))) {
    const hello = await new TwinClient(dir).hello();
    return { kind: "running", target: hello.target, pid: hello.pid };
  }
  if (record === undefined && !existsSync(socket) && !existsSync(recordFile(dir))) return { kind: "none" };
  const withRecord = record === undefined ? {} : { record };
  if (record === undefined)
    return { kind: "stale", why: `${recordFile(dir)} or ${socket} is left, and nothing answers` };
  if (!alive(record.pid))
    return {
      kind: "stale",
      ...withRecord,
      why: `its daemon (pid ${String(record.pid)}, started ${record.startedAt}) is gone`,
    };
  return { kind: "stale", ...withRecord, why: `its daemon (pid ${String(record.pid)}) does not answer on ${socket}` };
}

/** What to tell an operator about a dead twin. */
export function staleMessage(dir: string, target: string, why: string): string {
  return (
    `the ${target} twin in ${dir} died: ${why}; its hosts are gone. ` +
    `Its daemon's log is ${daemonLog(dir)}. Clean up with \`npm run -s twin -- ${target} down --state-dir ${dir}\`, then \`up\` again`
  );
}

/** The compiled daemon entry point (scripts/twin-daemon.ts). */
function daemonScript(): string {
  const dist = __filename.endsWith(".js")
    ? path.resolve(__dirname, "..", "..")
    : path.resolve(__dirname, "..", "..", "dist");
  const script = path.join(dist, "scripts", "twin-daemon.js");
  if (!existsSync(script)) throw new Error(`the twin daemon ${script} is not built: run \`npm run build\``);
  return script;
}

export interface StartDaemonOptions {
  dir: string;
  target: string;
  /** A module whose `createTarget` makes the target, in place of the built one (a test's, or one under development). */
  targetModule?: string;
  /** @default 10 minutes (the first start fetches Debian's tools into .cache/) */
  timeoutMs?: number;
}

/** Starts a daemon for `dir` and waits until it answers. */
export async function startDaemon(options: StartDaemonOptions): Promise<TwinClient> {
  const dir = path.resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = openSync(daemonLog(dir), "a");
  const args = [daemonScript(), "--state-dir", dir, "--target", options.target];
  if (options.targetModule !== undefined) args.push("--target-module", path.resolve(options.targetModule));
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited ${String(code ?? signal)}`));
  const client = new TwinClient(dir);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  for (;;) {
    if (exited !== undefined || Date.now() > deadline) {
      const tail = existsSync(daemonLog(dir))
        ? readFileSync(daemonLog(dir), "utf8").trim().split("\n").slice(-10).join("\n")
        : "";
      throw new Error(`the twin daemon for ${dir} ${exited ?? "did not answer in time"}:\n${tail}`);
    }
    if (existsSync(client.socketPath) && (await answers(client.socketPath))) return client;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The processes running in a user namespace (`user:[…]`), by pid (a zombie, already dead, is none). */
export function processesIn(userNamespace: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/user`) === userNamespace && alive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * `down`: a running twin ends itself; a dead one's remains are ended (its daemon, if it still
 * lives, and every process of its sandbox, by pid) and its runtime parts removed.
 */
export async function downTwin(dir: string): Promise<"down" | "cleaned" | "none"> {
  const state = await daemonState(dir);
  if (state.kind === "running") {
    await new TwinClient(dir).down();
    return "down";
  }
  if (state.kind === "none") {
    removeParts(dir, RUNTIME_PARTS);
    return "none";
  }
  const record = state.record;
  if (record !== undefined) {
    if (alive(record.pid) && readFileSync(`/proc/${String(record.pid)}/cmdline`, "utf8").includes("twin-daemon"))
      process.kill(record.pid, "SIGKILL");
    for (const pid of processesIn(record.userNamespace)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    const deadline = Date.now() + 10_000;
    while (processesIn(record.userNamespace).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }
  removeParts(dir, [...RUNTIME_PARTS, ...(record?.owns ?? [])]);
  return "cleaned";
}
