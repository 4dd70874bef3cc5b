/**
 * A systemd service run on a twin host with the unit's semantics, as systemd.service(5),
 * systemd.exec(5) and systemd.kill(5) document them: Type=simple, exec and oneshot (each
 * ExecStart in turn, RemainAfterExit); ExecStart with Environment, User/Group, LimitNOFILE,
 * WorkingDirectory and systemd's default PATH; ExecReload with $MAINPID; a stop through ExecStop
 * or KillSignal, then SIGKILL after TimeoutStopSec; a start that takes longer than
 * TimeoutStartSec fails; Restart= (no, always, on-failure) after RestartSec. The unit manager
 * (systemd.ts) orders and starts these; this file runs one.
 *
 * What the sandbox cannot give is stood in for and said (`notes`): run by someone other than
 * root, the sandbox maps one uid, so User= is checked but not switched to (run by root, every
 * account is mapped and the process runs as its user, by setpriv); LimitNOFILE up to the
 * sandbox's own hard limit, any higher ask recorded; only the main process is signalled
 * (KillMode=process: a user namespace gets no cgroup of its own to kill a control group with).
 * Output keys (StandardOutput, SyslogIdentifier) are accepted: a service's output goes to its log
 * file, the twin's journal.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { childrenOf, nsPids } from "./namespaces";
import type { Sandbox } from "./sandbox";

export type UnitSections = Record<string, Record<string, string[]>>;

/**
 * Parses a unit file into sections of keys, each with its values in order (a key may repeat; an
 * empty assignment, `ExecStart=`, resets the list as systemd does in drop-ins).
 */
export function parseUnit(text: string): UnitSections {
  const sections: UnitSections = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section !== null) {
      current = sections[section[1] ?? ""] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    if (current === undefined || eq < 0) throw new Error(`a unit line outside a section or without "=": ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === "") current[key] = [];
    else (current[key] ??= []).push(value);
  }
  return sections;
}

/** systemd's time span (`90`, `90s`, `1min 30s`, `500ms`, `0` or `infinity`) in milliseconds. */
export function timeSpanMs(value: string): number {
  if (value === "infinity") return Number.POSITIVE_INFINITY;
  let total = 0;
  const units: Record<string, number> = {
    us: 0.001,
    ms: 1,
    s: 1000,
    sec: 1000,
    second: 1000,
    seconds: 1000,
    m: 60_000,
    min: 60_000,
    minute: 60_000,
    minutes: 60_000,
    h: 3_600_000,
    hr: 3_600_000,
    hour: 3_600_000,
    hours: 3_600_000,
    d: 86_400_000,
    day: 86_400_000,
    days: 86_400_000,
  };
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)?/g)) {
    const unit = m[2] ?? "s";
    const factor = units[unit];
    if (factor === undefined) throw new Error(`"${value}" is not a systemd time span (unit "${unit}")`);
    total += Number(m[1]) * factor;
  }
  return total;
}

/** An Exec line's words (systemd's quoting, simplified: double quotes group; a leading `-` ignores failure). */
export function execWords(line: string): { argv: string[]; ignoreFailure: boolean } {
  const prefix = /^[-@:+!]*/.exec(line)?.[0] ?? "";
  const words = [...line.slice(prefix.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
  return { argv: words, ignoreFailure: prefix.includes("-") };
}

const SIGNALS = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGQUIT"]);

export interface ExecLine {
  argv: string[];
  ignoreFailure: boolean;
}

export interface ServiceConfig {
  name: string;
  type: "simple" | "exec" | "oneshot";
  /** One line, or several in turn for a oneshot. */
  execStart: ExecLine[];
  execReload?: ExecLine;
  execStop?: ExecLine;
  remainAfterExit: boolean;
  environment: Record<string, string>;
  user?: string;
  group?: string;
  limitNofile?: number;
  workingDirectory?: string;
  killSignal: NodeJS.Signals;
  timeoutStartMs: number;
  timeoutStopMs: number;
  restart: "no" | "always" | "on-failure";
  restartMs: number;
}

/** [Service] keys the runner carries out, and those it accepts without effect (said in docs/twin.md). */
const SERVICE_KEYS = new Set([
  "Type",
  "ExecStart",
  "ExecReload",
  "ExecStop",
  "Environment",
  "User",
  "Group",
  "LimitNOFILE",
  "WorkingDirectory",
  "KillSignal",
  "KillMode",
  "TimeoutSec",
  "TimeoutStopSec",
  "TimeoutStartSec",
  "Restart",
  "RestartSec",
  "RemainAfterExit",
  "StandardOutput",
  "StandardError",
  "SyslogIdentifier",
  "TasksMax",
]);

/** A time span key: `0` means no limit, as systemd reads TimeoutStartSec/TimeoutStopSec. */
const timeout = (value: string | undefined, fallback: string): number => {
  const ms = timeSpanMs(value ?? fallback);
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
};

/** The [Service] section as the runner uses it; a key it does not carry out is an error naming it. */
export function serviceConfig(name: string, sections: UnitSections): ServiceConfig {
  const service = sections.Service ?? {};
  const one = (key: string): string | undefined => service[key]?.at(-1);
  const unknown = Object.keys(service).filter((k) => !SERVICE_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`${name}: the twin does not carry out [Service] ${unknown.join(", ")}`);
  const type = one("Type") ?? "simple";
  if (type !== "simple" && type !== "exec" && type !== "oneshot")
    throw new Error(`${name}: Type=${type}; the twin runs simple, exec and oneshot services`);
  const starts = (service.ExecStart ?? []).map(execWords);
  if (starts.length === 0) throw new Error(`${name} has no ExecStart`);
  if (type !== "oneshot" && starts.length > 1)
    throw new Error(`${name}: several ExecStart lines are for Type=oneshot only (systemd refuses the unit)`);
  const killSignal = one("KillSignal") ?? "SIGTERM";
  if (!SIGNALS.has(killSignal)) throw new Error(`${name}: KillSignal=${killSignal} is not one the twin sends`);
  const restart = one("Restart") ?? "no";
  if (restart !== "no" && restart !== "always" && restart !== "on-failure")
    throw new Error(`${name}: Restart=${restart}; the twin carries out no, always, on-failure`);
  const environment: Record<string, string> = {};
  for (const line of service.Environment ?? [])
    for (const pair of execWords(line).argv) {
      const eq = pair.indexOf("=");
      if (eq > 0) environment[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  const nofile = one("LimitNOFILE");
  const reload = one("ExecReload");
  const stop = one("ExecStop");
  const user = one("User");
  const group = one("Group");
  const cwd = one("WorkingDirectory");
  // A oneshot's start may take as long as it takes by default (systemd: TimeoutStartSec=infinity).
  const startFallback = type === "oneshot" ? "0" : "90s";
  return {
    name,
    type,
    execStart: starts,
    ...(reload === undefined ? {} : { execReload: execWords(reload) }),
    ...(stop === undefined ? {} : { execStop: execWords(stop) }),
    remainAfterExit: /^(yes|true|1|on)$/.test(one("RemainAfterExit") ?? "no"),
    environment,
    ...(user === undefined ? {} : { user }),
    ...(group === undefined ? {} : { group }),
    ...(nofile === undefined ? {} : { limitNofile: Number(nofile.split(":").at(-1)) }),
    ...(cwd === undefined ? {} : { workingDirectory: cwd }),
    killSignal: killSignal as NodeJS.Signals,
    timeoutStartMs: timeout(one("TimeoutStartSec") ?? one("TimeoutSec"), startFallback),
    timeoutStopMs: timeout(one("TimeoutStopSec") ?? one("TimeoutSec"), "90s"),
    restart,
    restartMs: timeSpanMs(one("RestartSec") ?? "100ms"),
  };
}

/** The sandbox's own hard limit on open files: the most a unit can be given without privilege. */
export function sandboxNofileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8");
  const row = line.split("\n").find((l) => l.startsWith("Max open files"));
  return Number(row?.split(/\s+/)[4] ?? "1024");
}

export type ServiceState = "inactive" | "activating" | "active" | "deactivating" | "failed";
/** systemd's Result= of the last run. */
export type ServiceResult = "success" | "exit-code" | "signal" | "timeout" | "resources";

/** A start that failed, with systemd's result and its reason. */
export class StartFailed extends Error {
  constructor(
    readonly result: ServiceResult,
    message: string,
  ) {
    super(message);
  }
}

/** One service on one host: started, reloaded, stopped and restarted as systemd would. */
export class Service {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  state: ServiceState = "inactive";
  result: ServiceResult = "success";
  /** The main process's last exit status (ExecMainStatus). */
  mainStatus = 0;
  readonly notes: string[] = [];
  exits = 0;
  restarts = 0;

  constructor(
    private readonly sandbox: Sandbox,
    readonly host: string,
    readonly config: ServiceConfig,
    /** Called on every change of state (the unit manager follows it: ordering, timers). */
    private readonly onState: (state: ServiceState) => void = () => undefined,
  ) {}

  private set(state: ServiceState): void {
    this.state = state;
    this.onState(state);
  }

  /** Starts the service; resolves when systemd would call the start job done, or throws StartFailed. */
  async start(): Promise<void> {
    if (this.child !== undefined || this.state === "active") return;
    clearTimeout(this.restartTimer);
    this.stopping = false;
    this.set("activating");
    const prefix = await this.prefix();
    if (this.config.type === "oneshot") return this.runOneshot(prefix);
    this.result = "success";
    const line = this.config.execStart[0];
    if (line === undefined) throw new Error(`${this.config.name} has no ExecStart`);
    this.spawnMain(prefix, line);
    this.set("active");
  }

  /** The words before ExecStart: environment, limits, user, working directory. */
  private async prefix(): Promise<{ argv: string[]; env: Record<string, string> }> {
    const { config } = this;
    const argv: string[] = [];
    if (config.limitNofile !== undefined) {
      const most = sandboxNofileLimit();
      const granted = Math.min(config.limitNofile, most);
      if (granted < config.limitNofile)
        this.note(
          `LimitNOFILE=${String(config.limitNofile)} asked; ${String(granted)} granted (the sandbox's hard limit: raising it needs privilege outside the namespace)`,
        );
      argv.push("prlimit", `--nofile=${String(granted)}:${String(granted)}`, "--");
    }
    argv.push(...(await this.userSwitch()));
    if (config.workingDirectory !== undefined) argv.push("sh", "-c", 'cd "$0" && exec "$@"', config.workingDirectory);
    return { argv, env: config.environment };
  }

  /** setpriv to User=/Group= when the sandbox maps them; checked (and said) when it cannot. */
  private async userSwitch(): Promise<string[]> {
    const { config } = this;
    if (config.user === undefined || config.user === "root") return [];
    const passwd = await this.sandbox.readFile(this.host, "/etc/passwd");
    const entry = passwd.split("\n").find((l) => l.startsWith(`${config.user}:`));
    if (entry === undefined)
      throw new StartFailed(
        "resources",
        `${config.name} on ${this.host}: User=${config.user} does not exist (systemd: "Failed to determine user credentials")`,
      );
    if (config.group !== undefined) {
      const groups = await this.sandbox.readFile(this.host, "/etc/group");
      if (!groups.split("\n").some((l) => l.startsWith(`${config.group}:`)))
        throw new StartFailed(
          "resources",
          `${config.name} on ${this.host}: Group=${config.group} does not exist (systemd: "Failed to determine group credentials")`,
        );
    }
    if (!this.sandbox.mapsAllIds) {
      this.note(
        `User=${config.user}: checked, but run under the sandbox's one uid (an unprivileged user namespace maps only the caller's)`,
      );
      return [];
    }
    // Without Group=, the user's primary group (passwd's fourth field) and its supplementary ones.
    const primary = entry.split(":")[3] ?? "";
    const group =
      config.group === undefined
        ? [`--regid=${primary}`, "--init-groups"]
        : [`--regid=${config.group}`, "--clear-groups"];
    return ["setpriv", `--reuid=${config.user}`, ...group];
  }

  private spawnMain(prefix: { argv: string[]; env: Record<string, string> }, line: ExecLine): void {
    const child = this.sandbox.spawn(
      this.host,
      [...prefix.argv, ...line.argv],
      this.sandbox.logFile(this.host, this.config.name),
      prefix.env,
    );
    this.child = child;
    child.once("exit", (code, signal) => {
      this.onMainExit(code, signal);
    });
  }

  private onMainExit(code: number | null, signal: NodeJS.Signals | null): void {
    const { config } = this;
    this.exits += 1;
    this.child = undefined;
    this.mainStatus = code ?? 0;
    if (this.stopping || !this.sandbox.isRunning(this.host)) return;
    const failed = code !== 0 || signal !== null;
    this.result = signal !== null ? "signal" : failed ? "exit-code" : "success";
    this.set(failed ? "failed" : "inactive");
    if (config.restart === "always" || (config.restart === "on-failure" && failed))
      this.restartTimer = setTimeout(() => {
        this.restarts += 1;
        void this.start().catch(() => {
          this.set("failed");
        });
      }, config.restartMs);
  }

  /** A oneshot: each ExecStart to its end, in turn; active after (RemainAfterExit) or inactive. */
  private async runOneshot(prefix: { argv: string[]; env: Record<string, string> }): Promise<void> {
    const { config } = this;
    const deadline = Date.now() + config.timeoutStartMs;
    for (const line of config.execStart) {
      const left = deadline - Date.now();
      const child = this.sandbox.spawn(
        this.host,
        [...prefix.argv, ...line.argv],
        this.sandbox.logFile(this.host, config.name),
        prefix.env,
      );
      this.child = child;
      const exit = await waitExit(child, left);
      this.child = undefined;
      if (exit === "timeout") {
        this.result = "timeout";
        this.set("failed");
        throw new StartFailed("timeout", `${config.name}: start operation timed out (TimeoutStartSec)`);
      }
      this.mainStatus = exit.code ?? 0;
      if (this.stopping) return;
      if ((exit.code !== 0 || exit.signal !== null) && !line.ignoreFailure) {
        this.result = exit.signal === null ? "exit-code" : "signal";
        this.set("failed");
        throw new StartFailed(
          this.result,
          `${config.name}: the control process exited with error code ${String(exit.code ?? exit.signal)}`,
        );
      }
    }
    this.result = "success";
    this.set(config.remainAfterExit ? "active" : "inactive");
  }

  private note(line: string): void {
    if (!this.notes.includes(line)) this.notes.push(line);
  }

  /** The main process as this process sees it (nsenter's child), once it has been forked. */
  private async mainPid(): Promise<number | undefined> {
    const nsenter = this.child?.pid;
    for (let i = 0; i < 200 && nsenter !== undefined && this.child !== undefined; i++) {
      const [main] = childrenOf(nsenter);
      if (main !== undefined) return main;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return undefined;
  }

  /** $MAINPID as the host sees it. */
  async hostPid(): Promise<number | undefined> {
    const main = await this.mainPid();
    return main === undefined ? undefined : nsPids(main).at(-1);
  }

  /** ExecReload with $MAINPID; fails as systemctl reload does when it exits non-zero. */
  async reload(): Promise<void> {
    const reload = this.config.execReload;
    if (reload === undefined)
      throw new Error(`${this.config.name}: no ExecReload ("Job type reload is not applicable")`);
    const pid = await this.hostPid();
    if (pid === undefined) throw new Error(`${this.config.name} is not running`);
    const argv = reload.argv.map((w) => w.replaceAll("$MAINPID", String(pid)).replaceAll("${MAINPID}", String(pid)));
    const r = await this.sandbox.run(this.host, argv, { env: this.config.environment });
    if (r.status !== 0 && !reload.ignoreFailure)
      throw new Error(`${this.config.name}: ExecReload exited ${String(r.status)}: ${r.stderr.trim()}`);
  }

  /** The stop path: ExecStop, else KillSignal; SIGKILL after TimeoutStopSec. */
  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined) {
      // A oneshot that remained active: its ExecStop is its stop path.
      if (this.state === "active" && this.config.execStop !== undefined) {
        this.set("deactivating");
        await this.sandbox.run(this.host, this.config.execStop.argv, { env: this.config.environment });
      }
      if (this.state !== "failed") this.set("inactive");
      return;
    }
    this.stopping = true;
    this.set("deactivating");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const main = await this.mainPid();
    // ExecStop first; what is left of the service then gets KillSignal (systemd.service(5)).
    if (this.config.execStop !== undefined && this.config.type !== "oneshot")
      await this.sandbox.run(this.host, this.config.execStop.argv, { env: this.config.environment });
    if (main !== undefined && this.child !== undefined) signal(main, this.config.killSignal);
    const limit = this.config.timeoutStopMs;
    const timer = Number.isFinite(limit)
      ? setTimeout(() => {
          this.note(`${this.config.name} did not stop within TimeoutStopSec: killed (SIGKILL)`);
          if (main !== undefined) signal(main, "SIGKILL");
        }, limit)
      : undefined;
    await exited;
    clearTimeout(timer);
    this.set("inactive");
  }

  get running(): boolean {
    return this.child !== undefined;
  }
}

/** Signals a process that may have exited meanwhile. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

/** A child's exit, or "timeout" after `ms` (the child is then killed). */
function waitExit(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | "timeout"> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms)
      ? setTimeout(
          () => {
            // nsenter's child is the command, in the host: kill it, then nsenter.
            for (const pid of childrenOf(child.pid ?? 0)) signal(pid, "SIGKILL");
            child.kill("SIGKILL");
            resolve("timeout");
          },
          Math.max(0, ms),
        )
      : undefined;
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}
