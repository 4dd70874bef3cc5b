/**
 * A rendered systemd service run on a twin host with the unit's semantics, as systemd.service(5),
 * systemd.exec(5) and systemd.kill(5) document them: ExecStart with Environment, User (which must
 * exist on the host), LimitNOFILE, WorkingDirectory; ExecReload with $MAINPID; a stop through
 * ExecStop or KillSignal, then SIGKILL after TimeoutStopSec; Restart= (no, always, on-failure)
 * after RestartSec. What the sandbox cannot give is stood in for and said (units.notes): one uid
 * (an unprivileged user namespace maps only the caller's), so User= is checked but not switched
 * to; LimitNOFILE up to the sandbox's own hard limit, any higher ask recorded.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { childrenOf, nsPids } from "./namespaces";
import type { Sandbox } from "./sandbox";

export type UnitSections = Record<string, Record<string, string[]>>;

/** Parses a unit file into sections of keys, each with its values in order (a key may repeat). */
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
    (current[key] ??= []).push(line.slice(eq + 1).trim());
  }
  return sections;
}

/** systemd's time span (`90`, `90s`, `1min 30s`, `500ms`) in milliseconds. */
export function timeSpanMs(value: string): number {
  if (value === "infinity") return Number.POSITIVE_INFINITY;
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|hr)?/g)) {
    const n = Number(m[1]);
    const unit = m[2] ?? "s";
    total += n * ({ ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 }[unit] ?? 1000);
  }
  return total;
}

/** An Exec line's words (systemd's quoting, simplified: double quotes group; a leading `-` ignores failure). */
export function execWords(line: string): { argv: string[]; ignoreFailure: boolean } {
  const ignoreFailure = line.startsWith("-");
  const words = [...line.replace(/^[-@:+!]+/, "").matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
  return { argv: words, ignoreFailure };
}

const SIGNALS = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGQUIT"]);

export interface ServiceConfig {
  name: string;
  execStart: string[];
  execReload?: string[];
  execStop?: string[];
  environment: Record<string, string>;
  user?: string;
  limitNofile?: number;
  workingDirectory?: string;
  killSignal: NodeJS.Signals;
  timeoutStopMs: number;
  restart: "no" | "always" | "on-failure";
  restartMs: number;
}

/** The [Service] section as the runner uses it; a key it does not carry out is an error naming it. */
export function serviceConfig(name: string, sections: UnitSections): ServiceConfig {
  const service = sections.Service ?? {};
  const one = (key: string): string | undefined => service[key]?.at(-1);
  const known = new Set([
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
    "TimeoutStopSec",
    "TimeoutStartSec",
    "Restart",
    "RestartSec",
    "RemainAfterExit",
  ]);
  const unknown = Object.keys(service).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`${name}: the twin does not carry out [Service] ${unknown.join(", ")}`);
  const type = one("Type") ?? "simple";
  if (type !== "simple" && type !== "exec")
    throw new Error(`${name}: Type=${type}; the twin runs simple and exec services`);
  const start = one("ExecStart");
  if (start === undefined) throw new Error(`${name} has no ExecStart`);
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
  const cwd = one("WorkingDirectory");
  return {
    name,
    execStart: execWords(start).argv,
    ...(reload === undefined ? {} : { execReload: execWords(reload).argv }),
    ...(stop === undefined ? {} : { execStop: execWords(stop).argv }),
    environment,
    ...(user === undefined ? {} : { user }),
    ...(nofile === undefined ? {} : { limitNofile: Number(nofile.split(":").at(-1)) }),
    ...(cwd === undefined ? {} : { workingDirectory: cwd }),
    killSignal: killSignal as NodeJS.Signals,
    timeoutStopMs: timeSpanMs(one("TimeoutStopSec") ?? "90s"),
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

export type ServiceState = "active" | "inactive" | "failed" | "activating";

/** One service on one host: started, reloaded, stopped and restarted as systemd would. */
export class Service {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  state: ServiceState = "inactive";
  readonly notes: string[] = [];
  exits = 0;

  constructor(
    private readonly sandbox: Sandbox,
    readonly host: string,
    readonly config: ServiceConfig,
  ) {}

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const { config } = this;
    if (config.user !== undefined && config.user !== "root") {
      const passwd = await this.sandbox.readFile(this.host, "/etc/passwd");
      if (!passwd.split("\n").some((l) => l.startsWith(`${config.user}:`)))
        throw new Error(
          `${config.name} on ${this.host}: User=${config.user} does not exist (systemd: "Failed to determine user credentials")`,
        );
      this.note(
        `User=${config.user}: checked, but run under the sandbox's one uid (an unprivileged user namespace maps only the caller's)`,
      );
    }
    const prefix: string[] = [];
    if (config.limitNofile !== undefined) {
      const most = sandboxNofileLimit();
      const granted = Math.min(config.limitNofile, most);
      if (granted < config.limitNofile)
        this.note(
          `LimitNOFILE=${String(config.limitNofile)} asked; ${String(granted)} granted (the sandbox's hard limit: raising it needs privilege outside the namespace)`,
        );
      prefix.push("prlimit", `--nofile=${String(granted)}:${String(granted)}`, "--");
    }
    const env = ["env", ...Object.entries(config.environment).map(([k, v]) => `${k}=${v}`)];
    const cwd =
      config.workingDirectory === undefined ? [] : ["sh", "-c", 'cd "$0" && exec "$@"', config.workingDirectory];
    this.stopping = false;
    this.state = "active";
    const child = this.sandbox.spawn(
      this.host,
      [...env, ...prefix, ...cwd, ...config.execStart],
      this.sandbox.logFile(this.host, config.name),
    );
    this.child = child;
    child.once("exit", (code, signal) => {
      this.exits += 1;
      this.child = undefined;
      if (this.stopping || !this.sandbox.isRunning(this.host)) return;
      const failed = code !== 0 || signal !== null;
      this.state = failed ? "failed" : "inactive";
      if (config.restart === "always" || (config.restart === "on-failure" && failed))
        this.restartTimer = setTimeout(() => void this.start().catch(() => (this.state = "failed")), config.restartMs);
    });
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
    const argv = reload.map((w) => w.replaceAll("$MAINPID", String(pid)).replaceAll("${MAINPID}", String(pid)));
    const r = await this.sandbox.run(this.host, argv);
    if (r.status !== 0)
      throw new Error(`${this.config.name}: ExecReload exited ${String(r.status)}: ${r.stderr.trim()}`);
  }

  /** The stop path: ExecStop, else KillSignal; SIGKILL after TimeoutStopSec. */
  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined) {
      this.state = "inactive";
      return;
    }
    this.stopping = true;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const main = await this.mainPid();
    if (this.config.execStop !== undefined) await this.sandbox.run(this.host, this.config.execStop);
    else if (main !== undefined) process.kill(main, this.config.killSignal);
    const timeout = this.config.timeoutStopMs;
    const timer = Number.isFinite(timeout)
      ? setTimeout(() => {
          this.note(`${this.config.name} did not stop within TimeoutStopSec: killed (SIGKILL)`);
          if (main !== undefined) process.kill(main, "SIGKILL");
        }, timeout)
      : undefined;
    await exited;
    clearTimeout(timer);
    this.state = "inactive";
  }

  get running(): boolean {
    return this.child !== undefined;
  }
}
