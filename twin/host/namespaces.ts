/**
 * The kernel's part of the twin's sandbox: one user + network + mount + PID namespace made by
 * `unshare` (no root: the user namespace maps the caller's own uid to root inside), and commands
 * run inside it, or inside a host's namespaces within it, with `nsenter`. Its first process (a
 * shell that reaps orphans) ends when the Node process that started it ends (its stdin closes),
 * and with it every process, namespace and mount inside: nothing outlives the sandbox.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * PID 1 of a namespace: reaps whatever is orphaned into it, exits on SIGTERM; with `watchStdin`,
 * also when its stdin closes (the process that started the sandbox is gone).
 */
export function initScript(watchStdin: boolean): string {
  return [
    "trap 'exit 0' TERM INT HUP",
    // A job in the background reads /dev/null unless its stdin is handed over explicitly.
    ...(watchStdin ? ["exec 3<&0", "( while read -r _; do :; done <&3; kill -TERM 1 ) &", "exec 3<&-"] : []),
    // `wait` reaps every child, adopted orphans included (dash waits with wait3(-1)).
    "while :; do sleep 3600 & wait $!; done",
  ].join("\n");
}

/** The processes `pid` started (Linux's /proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((p) => p !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/** A process's pids from the outermost PID namespace to its own (`NSpid`). */
export function nsPids(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${String(pid)}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("NSpid:"));
    return (line ?? "").replace("NSpid:", "").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The descendant of `root` that is `depth` PID namespaces below this process (its init), waiting
 * up to `timeoutMs` for `unshare` to have forked it.
 */
export async function namespaceInit(root: number, depth: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift() ?? root;
      const levels = nsPids(pid);
      if (levels.length === depth + 1 && levels[levels.length - 1] === 1) return pid;
      queue.push(...childrenOf(pid));
    }
    if (Date.now() > deadline)
      throw new Error(`no init process ${String(depth)} namespace(s) below pid ${String(root)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** systemd's default PATH: what a host's processes find their commands by. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The environment the namespace tools run with: this process's, with the standard directories
 * first on its PATH. nsenter looks up the command it runs in a host by that PATH inside the host's
 * root, where only those exist; a caller's PATH may name none of them (e.g. a directory of links
 * to the tools it allows).
 */
export function toolEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, PATH: env.PATH === undefined || env.PATH === "" ? HOST_PATH : `${HOST_PATH}:${env.PATH}` };
}

/** nsenter's flags to act inside the sandbox (its uid stays the caller's: no setgroups in a user namespace). */
export function enterSandbox(sandboxPid: number): string[] {
  return ["nsenter", `--target=${String(sandboxPid)}`, "--user", "--preserve-credentials", "--net", "--mount", "--pid"];
}

/** nsenter's flags to run as a process of a host: its network, name, mounts, PIDs and root. */
export function enterHost(hostPid: number): string[] {
  return [
    "nsenter",
    `--target=${String(hostPid)}`,
    "--user",
    "--preserve-credentials",
    "--net",
    "--uts",
    "--mount",
    "--pid",
    "--ipc",
    "--root",
    // The host's own working directory (its init's, "/"): a path given here would be opened outside its root.
    "--wd",
  ];
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to completion, with `input` on its stdin. */
export function runCommand(
  argv: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error("an empty command"));
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        encoding: "utf8",
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: toolEnvironment(options.env),
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`${argv.join(" ")} could not run: ${error.message}${stderr === "" ? "" : `: ${stderr}`}`));
          return;
        }
        resolve({ status: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    // A command that exits without reading its input is no failure of the write.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs `argv`, failing with its output when it exits non-zero. */
export async function mustRun(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await runCommand(argv, options);
  if (r.status !== 0)
    throw new Error(`${argv.slice(argv.indexOf("--") + 1).join(" ")} failed (${String(r.status)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Starts `unshare` with `flags` running `script` as its namespace's first process. */
export function spawnUnshare(prefix: string[], flags: string[], script: string, watchStdin: boolean): ChildProcess {
  const argv = [...prefix, "unshare", ...flags, "--fork", "--kill-child", "sh", "-c", script];
  return spawn(argv[0] ?? "unshare", argv.slice(1), {
    stdio: [watchStdin ? "pipe" : "ignore", "ignore", "pipe"],
    detached: false,
    env: toolEnvironment(),
  });
}
