/**
 * The `systemctl` and `journalctl` a host's programs call (the stand-in in its image hands the
 * command line here), over the host's unit manager (systemd.ts), with systemctl(1)'s words, exit
 * statuses and messages for what our rendered files, cloud-init's runcmd and the agent
 * (components/aws/zester-apply.py) use: daemon-reload; start, stop, restart, try-restart,
 * reload, reload-or-restart (`--no-block` returns once the job is queued); enable and disable
 * (`--now`), which make and remove the `.wants/`/`.requires/` links in the host's
 * /etc/systemd/system as systemctl does; is-active, is-enabled, is-failed (`--quiet`); show
 * (`-p`, `--value`); status; cat; reset-failed; poweroff and reboot (the machine's, through
 * `power`). A verb or flag it does not carry out is refused, naming it.
 */
import { readFileSync } from "node:fs";
import { ToolError, type Call, type Reply } from "./host-calls";
import type { Sandbox } from "./sandbox";
import { UnitManager, type UnitRuntime } from "./systemd";
import { unitName, type LoadedUnit } from "./unit-files";

export interface SystemctlOptions {
  /** `systemctl poweroff` / `reboot` in the host: the machine's own power actions. */
  power?: (action: "poweroff" | "reboot") => void;
}

interface Parsed {
  verb: string;
  names: string[];
  noBlock: boolean;
  quiet: boolean;
  now: boolean;
  value: boolean;
  properties: string[];
  lines: number;
}

const BOOLEAN_FLAGS: Record<string, keyof Parsed | undefined> = {
  "--no-block": "noBlock",
  "--quiet": "quiet",
  "-q": "quiet",
  "--now": "now",
  "--value": "value",
  // Accepted, without effect on a stand-in that never pages, asks or runs per-user managers.
  "--no-pager": undefined,
  "--no-legend": undefined,
  "--no-ask-password": undefined,
  "--system": undefined,
  "--full": undefined,
  "-l": undefined,
  "--all": undefined,
  "-a": undefined,
  "--plain": undefined,
  "--no-reload": undefined,
};

export function parseSystemctl(args: readonly string[]): Parsed {
  const parsed: Parsed = {
    verb: "",
    names: [],
    noBlock: false,
    quiet: false,
    now: false,
    value: false,
    properties: [],
    lines: 10,
  };
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg in BOOLEAN_FLAGS) {
      const key = BOOLEAN_FLAGS[arg];
      if (key !== undefined) (parsed as unknown as Record<string, boolean>)[key] = true;
    } else if (arg === "-p" || arg === "--property") parsed.properties.push(...(args[++i] ?? "").split(","));
    else if (arg.startsWith("--property=")) parsed.properties.push(...arg.slice(11).split(","));
    else if (arg.startsWith("-p") && arg.length > 2) parsed.properties.push(...arg.slice(2).split(","));
    else if (arg === "-n" || arg === "--lines") parsed.lines = Number(args[++i]);
    else if (arg.startsWith("--lines=")) parsed.lines = Number(arg.slice(8));
    else if (arg.startsWith("-")) throw new ToolError(`systemctl: the twin's systemctl does not carry out ${arg}`, 1);
    else words.push(arg);
  }
  parsed.verb = words[0] ?? "list-units";
  parsed.names = words.slice(1).map(unitName);
  return parsed;
}

const NO_INSTALL = `The unit files have no installation config (WantedBy=, RequiredBy=, Also=,
Alias= settings in the [Install] section, and DefaultInstance= for template
units). This means they are not meant to be enabled or disabled using systemctl.
`;

const quote = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`;

export class Systemctl {
  constructor(
    private readonly sandbox: Sandbox,
    private readonly manager: UnitManager,
    private readonly options: SystemctlOptions = {},
  ) {}

  /** The stand-in's call. */
  async call(call: Call): Promise<Reply> {
    const parsed = parseSystemctl(call.args);
    switch (parsed.verb) {
      case "daemon-reload":
        await this.manager.reload();
        return {};
      case "start":
      case "stop":
      case "restart":
      case "try-restart":
      case "reload":
      case "reload-or-restart":
        return this.jobs(parsed);
      case "enable":
        return this.enable(parsed);
      case "disable":
        return this.disable(parsed);
      case "is-active":
      case "is-failed":
        return this.isState(parsed);
      case "is-enabled":
        return this.isEnabled(parsed);
      case "show":
        return this.show(parsed);
      case "status":
        return this.status(parsed);
      case "cat":
        return this.cat(parsed);
      case "reset-failed":
        for (const name of parsed.names)
          if (this.manager.rt(name).state === "failed") this.manager.rt(name).state = "inactive";
        return {};
      case "poweroff":
      case "reboot":
        if (this.options.power === undefined)
          throw new ToolError(`systemctl: ${parsed.verb} is not wired for this host`, 1);
        this.options.power(parsed.verb);
        return {};
      default:
        throw new ToolError(`systemctl: the twin's systemctl does not carry out "${parsed.verb}"`, 1);
    }
  }

  private needNames(parsed: Parsed): void {
    if (parsed.names.length === 0) throw new ToolError(`Too few arguments.`, 1);
  }

  private async jobs(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    const verb = parsed.verb;
    // A unit file the manager has not loaded yet is loaded when it is asked for, as systemd does.
    if (parsed.names.some((name) => this.manager.units.get(name)?.load !== "loaded")) await this.manager.reload();
    for (const name of parsed.names) {
      try {
        this.manager.unit(name);
      } catch (error) {
        const message = error instanceof ToolError ? error.message : String(error);
        throw new ToolError(`Failed to ${verb} ${name}: ${message}`, error instanceof ToolError ? error.status : 1);
      }
    }
    const waits: Promise<void>[] = [];
    for (const name of parsed.names) {
      if (
        verb === "reload" ||
        (verb === "reload-or-restart" && this.manager.units.get(name)?.sections.Service?.ExecReload !== undefined)
      )
        waits.push(this.reloadOne(name));
      else if (verb === "start") waits.push(...this.manager.enqueueStart([name]).map((j) => UnitManager.outcome(j)));
      else if (verb === "stop") waits.push(UnitManager.outcome(this.manager.enqueueStop(name)));
      else if (verb === "try-restart" && !this.active(name)) continue;
      else
        waits.push(
          this.manager
            .restart(name)
            .then((jobs) => Promise.all(jobs.map((j) => UnitManager.outcome(j))))
            .then(() => undefined),
        );
    }
    if (parsed.noBlock) {
      // Queued: the outcome is the unit's business now (the journal says it), not the caller's.
      for (const w of waits) w.catch(() => undefined);
      return {};
    }
    await Promise.all(waits);
    return {};
  }

  private active(name: string): boolean {
    const state = this.manager.rt(name).state;
    return state === "active" || state === "activating" || state === "reloading";
  }

  private async reloadOne(name: string): Promise<void> {
    const rt = this.manager.rt(name);
    if (this.manager.units.get(name)?.sections.Service?.ExecReload === undefined)
      throw new ToolError(`Failed to reload ${name}: Job type reload is not applicable for unit ${name}.`, 1);
    if (rt.service === undefined || rt.state !== "active")
      throw new ToolError(`Failed to reload ${name}: Unit ${name} is not active, cannot reload.`, 1);
    try {
      await rt.service.reload();
    } catch {
      throw new ToolError(
        `Job for ${name} failed because the control process exited with error code.\nSee "systemctl status ${name}" and "journalctl -xeu ${name}" for details.`,
        1,
      );
    }
  }

  /** The links `enable` makes for a unit (and the units in its Also=). */
  private installLinks(unit: LoadedUnit, seen = new Set<string>()): [string, string][] {
    if (seen.has(unit.name)) return [];
    seen.add(unit.name);
    const fragment = unit.fragmentPath ?? `/etc/systemd/system/${unit.name}`;
    const links: [string, string][] = [
      ...unit.install.wantedBy.map((t): [string, string] => [`/etc/systemd/system/${t}.wants/${unit.name}`, fragment]),
      ...unit.install.requiredBy.map((t): [string, string] => [
        `/etc/systemd/system/${t}.requires/${unit.name}`,
        fragment,
      ]),
      ...unit.install.alias.map((a): [string, string] => [`/etc/systemd/system/${a}`, fragment]),
    ];
    for (const also of unit.install.also) links.push(...this.installLinks(this.manager.unit(unitName(also)), seen));
    return links;
  }

  private async enable(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    // systemctl enable reads the unit files themselves, not what the manager loaded last.
    await this.manager.reload();
    let stderr = "";
    const links: [string, string][] = [];
    for (const name of parsed.names) {
      const unit = this.manager.units.get(name);
      if (unit?.load !== "loaded") throw new ToolError(`Failed to enable unit: Unit file ${name} does not exist.`, 1);
      const own = this.installLinks(unit);
      if (own.length === 0) stderr += NO_INSTALL;
      links.push(...own);
    }
    const script = links
      .map(
        ([link, target]) =>
          `if [ "$(readlink ${quote(link)} || true)" != ${quote(target)} ]; then mkdir -p "$(dirname ${quote(link)})"; ln -sf ${quote(target)} ${quote(link)}; echo ${quote(`Created symlink ${link} → ${target}.`)} >&2; fi`,
      )
      .join("\n");
    const r = await this.sandbox.run(this.manager.host, ["sh", "-c", `set -e\n${script}`]);
    stderr += r.stderr;
    if (r.status !== 0) throw new ToolError(stderr.trimEnd(), 1);
    await this.manager.reload();
    if (parsed.now) await this.jobs({ ...parsed, verb: "start" });
    return { stderr };
  }

  private async disable(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    const script = parsed.names
      .map(
        (name) =>
          `for l in /etc/systemd/system/*.wants/${name} /etc/systemd/system/*.requires/${name}; do if [ -L "$l" ]; then rm -f "$l"; echo "Removed \\"$l\\"." >&2; fi; done`,
      )
      .join("\n");
    const r = await this.sandbox.run(this.manager.host, ["sh", "-c", script]);
    await this.manager.reload();
    if (parsed.now) await this.jobs({ ...parsed, verb: "stop" });
    return { stderr: r.stderr };
  }

  private isState(parsed: Parsed): Reply {
    this.needNames(parsed);
    const states = parsed.names.map((name) => {
      const loaded = this.manager.units.get(name)?.load === "loaded";
      return loaded ? this.manager.rt(name).state : "inactive";
    });
    const want =
      parsed.verb === "is-failed" ? (s: string) => s === "failed" : (s: string) => s === "active" || s === "reloading";
    // systemctl(1): 0 when at least one of the units is in the state asked about.
    const status = states.some(want) ? 0 : parsed.verb === "is-failed" ? 1 : 3;
    return { stdout: parsed.quiet ? "" : states.map((s) => `${s}\n`).join(""), status };
  }

  private fileState(unit: LoadedUnit | undefined): string {
    if (unit === undefined || unit.load === "not-found") return "not-found";
    if (unit.load === "masked") return "masked";
    if (unit.enabledBy.size > 0) return "enabled";
    const install = unit.install;
    return install.wantedBy.length + install.requiredBy.length + install.also.length + install.alias.length > 0
      ? "disabled"
      : "static";
  }

  private isEnabled(parsed: Parsed): Reply {
    this.needNames(parsed);
    const states = parsed.names.map((name) => this.fileState(this.manager.units.get(name)));
    if (states.includes("not-found"))
      throw new ToolError(
        `Failed to get unit file state for ${parsed.names[states.indexOf("not-found")] ?? ""}: No such file or directory`,
        1,
      );
    const status = states.some((s) => s === "enabled" || s === "static") ? 0 : 1;
    return { stdout: parsed.quiet ? "" : states.map((s) => `${s}\n`).join(""), status };
  }

  private async properties(name: string): Promise<Record<string, string>> {
    const unit = this.manager.units.get(name);
    const rt: UnitRuntime = this.manager.rt(name);
    const pid = rt.service?.running === true ? ((await rt.service.hostPid()) ?? 0) : 0;
    const stamp = (ms: number | undefined) => (ms === undefined ? "" : timestamp(ms));
    const sub = subState(unit, rt);
    return {
      Id: name,
      Names: name,
      Description: unit?.description ?? name,
      LoadState: unit?.load ?? "not-found",
      ActiveState: rt.state,
      SubState: sub,
      Result: rt.result,
      UnitFileState: this.fileState(unit),
      FragmentPath: unit?.fragmentPath ?? "",
      Type: unit?.sections.Service?.Type?.at(-1) ?? (unit?.type === "service" ? "simple" : ""),
      MainPID: String(pid),
      ExecMainPID: String(pid),
      ExecMainStatus: String(rt.service?.mainStatus ?? 0),
      NRestarts: String(rt.service?.restarts ?? 0),
      ActiveEnterTimestamp: stamp(rt.activeEnter),
      InactiveEnterTimestamp: stamp(rt.inactiveEnter),
      NextElapseUSecMonotonic:
        rt.timer?.next === undefined ? "infinity" : String((rt.timer.next - this.manager.bootTime) * 1000),
      LastTriggerUSec: stamp(rt.timer?.last),
      After: [...(unit?.after ?? [])].join(" "),
      Before: [...(unit?.before ?? [])].join(" "),
      Wants: [...(unit?.wants ?? [])].join(" "),
      Requires: [...(unit?.requires ?? [])].join(" "),
    };
  }

  private async show(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    const blocks: string[] = [];
    for (const name of parsed.names) {
      const all = await this.properties(name);
      const keys = parsed.properties.length === 0 ? Object.keys(all) : parsed.properties.filter((p) => p in all);
      blocks.push(keys.map((k) => (parsed.value ? `${all[k] ?? ""}\n` : `${k}=${all[k] ?? ""}\n`)).join(""));
    }
    return { stdout: blocks.join("\n") };
  }

  private async status(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    let stdout = "";
    let status = 0;
    for (const name of parsed.names) {
      const p = await this.properties(name);
      if (p.LoadState === "not-found") {
        status = 4;
        continue;
      }
      if (p.ActiveState !== "active") status = status === 0 ? 3 : status;
      const dot = p.ActiveState === "active" ? "●" : p.ActiveState === "failed" ? "×" : "○";
      stdout += `${dot} ${name} - ${p.Description ?? name}\n`;
      stdout += `     Loaded: ${p.LoadState ?? ""} (${p.FragmentPath ?? ""}; ${p.UnitFileState ?? ""})\n`;
      stdout += `     Active: ${p.ActiveState ?? ""} (${p.SubState ?? ""})${p.ActiveEnterTimestamp === "" ? "" : ` since ${p.ActiveEnterTimestamp ?? ""}`}\n`;
      if (p.MainPID !== "0") stdout += `   Main PID: ${p.MainPID ?? ""}\n`;
      const log = journal(this.sandbox.logFile(this.manager.host, name), parsed.lines);
      if (log !== "") stdout += `\n${log}`;
    }
    return {
      stdout,
      status,
      ...(status === 4 ? { stderr: `Unit ${parsed.names.join(" ")} could not be found.\n` } : {}),
    };
  }

  private async cat(parsed: Parsed): Promise<Reply> {
    this.needNames(parsed);
    let stdout = "";
    for (const name of parsed.names) {
      const unit = this.manager.unit(name);
      if (unit.fragmentPath === undefined) continue;
      stdout += `# ${unit.fragmentPath}\n${await this.sandbox.readFile(this.manager.host, unit.fragmentPath)}`;
    }
    return { stdout };
  }

  /** The `journalctl` stand-in: `journalctl -u UNIT [-n N]` prints the unit's output (its log file). */
  journalctl(call: Call): Reply {
    const units: string[] = [];
    let lines = Number.POSITIVE_INFINITY;
    for (let i = 0; i < call.args.length; i++) {
      const arg = call.args[i] ?? "";
      if (arg === "-u" || arg === "--unit") units.push(unitName(call.args[++i] ?? ""));
      else if (arg.startsWith("--unit=")) units.push(unitName(arg.slice(7)));
      else if (arg === "-n" || arg === "--lines") lines = Number(call.args[++i]);
      else if (arg.startsWith("--lines=")) lines = Number(arg.slice(8));
      else if (["--no-pager", "-b", "--boot", "-q", "--quiet", "-o", "cat", "-e", "-x", "-xe", "-xeu"].includes(arg)) {
        if (arg === "-xeu") units.push(unitName(call.args[++i] ?? ""));
      } else
        throw new ToolError(`journalctl: the twin's journal is each unit's output; it does not carry out ${arg}`, 1);
    }
    if (units.length === 0) throw new ToolError("journalctl: the twin's journal is per unit: name one with -u UNIT", 1);
    return { stdout: units.map((u) => journal(this.sandbox.logFile(this.manager.host, u), lines)).join("") };
  }
}

function subState(unit: LoadedUnit | undefined, rt: UnitRuntime): string {
  if (rt.state === "failed") return "failed";
  if (rt.state === "inactive") return "dead";
  if (unit?.type === "timer") return rt.timer?.next === undefined ? "elapsed" : "waiting";
  if (unit?.type === "target") return "active";
  if (rt.state === "activating") return "start";
  return rt.service?.running === true ? "running" : "exited";
}

/** systemd's timestamp: `Mon 2024-01-15 10:00:00 UTC`. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()] ?? "";
  return `${day} ${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The last `lines` lines of a unit's output. */
function journal(file: string, lines: number): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return "";
  }
  const all = text.split("\n").filter((l, i, a) => l !== "" || i < a.length - 1);
  return all
    .slice(Number.isFinite(lines) ? -lines : 0)
    .map((l) => `${l}\n`)
    .join("");
}
