/**
 * A host's init: the units its files declare (unit-files.ts), started, stopped and ordered as
 * systemd does, with the services run by units.ts. What systemd documents and the twin carries
 * out (systemd.unit(5), systemd.service(5), systemd.timer(5), systemd.special(7), bootup(7)):
 *
 * - jobs: a start pulls in what the unit Wants= and Requires= (and its `.wants/`/`.requires/`
 *   folders); a job waits for the jobs of the units it is ordered After= (or that are Before= it);
 *   a stop waits for the stops of the units ordered after it; a stop comes before a start; a
 *   unit that Requires= (with After=) a unit whose start failed fails with "dependency"; stopping
 *   or restarting a unit stops or restarts the units that Require=, BindsTo= or are PartOf= it;
 * - boot: multi-user.target and everything it pulls in; shutdown (ACPI power button): every
 *   active unit stopped, in the reverse of the start order, each by its stop path;
 * - timers: OnBootSec, OnStartupSec, OnActiveSec, OnUnitActiveSec, OnUnitInactiveSec, Unit=; an
 *   OnBootSec already past when the timer starts elapses at once. A timer fires at its time
 *   (systemd may defer it by up to AccuracySec, 1 min by default, to coalesce wake-ups; the twin
 *   does not). OnCalendar is refused (no rendered unit uses it).
 *
 * systemctl.ts is the command line over this; the twin's own callers use the methods directly.
 */
import { ToolError } from "./host-calls";
import type { Sandbox } from "./sandbox";
import {
  loadUnits,
  orderedAfter,
  parseUnitFiles,
  readUnitFilesScript,
  triggeredBy,
  type LoadedUnit,
} from "./unit-files";
import { Service, serviceConfig, StartFailed, timeSpanMs, type ServiceConfig, type ServiceResult } from "./units";

export type ActiveState = "inactive" | "activating" | "active" | "deactivating" | "failed" | "reloading";
export type JobResult = "done" | "failed" | "dependency" | "timeout" | "canceled" | "skipped";

interface Job {
  unit: string;
  type: "start" | "stop";
  done: Promise<JobResult>;
  resolve: (result: JobResult) => void;
  result?: JobResult;
  /** Why it failed, for systemctl to say. */
  why?: string;
}

/** What the manager knows of a unit at run time. */
export interface UnitRuntime {
  state: ActiveState;
  result: ServiceResult | "dependency" | "condition";
  service?: Service;
  activeEnter?: number;
  inactiveEnter?: number;
  /** A timer's: its next elapse (epoch ms), when it last fired, and the once-per-boot settings that fired. */
  timer?: { next?: number; handle?: NodeJS.Timeout; last?: number; fired: Set<string> };
  lastJob?: JobResult;
}

/** Relative timer settings (systemd.timer(5)); OnCalendar is not carried out. */
const TIMER_KEYS = ["OnBootSec", "OnStartupSec", "OnActiveSec", "OnUnitActiveSec", "OnUnitInactiveSec"] as const;
const ONCE_PER_BOOT = new Set<string>(["OnBootSec", "OnStartupSec", "OnActiveSec"]);

export class UnitManager {
  units = new Map<string, LoadedUnit>();
  private readonly runtime = new Map<string, UnitRuntime>();
  private readonly jobs = new Map<string, Job>();
  bootTime = Date.now();
  private closed = false;
  /** Counts boots: a service of an earlier boot (its exit arriving late) changes nothing of this one. */
  private generation = 0;
  /** Lines for the operator: units that failed, ordering cycles broken. */
  readonly log: string[] = [];

  constructor(
    private readonly sandbox: Sandbox,
    readonly host: string,
  ) {}

  /** Reads the host's unit files again (daemon-reload): running services keep their old config until restarted. */
  async reload(): Promise<void> {
    const r = await this.sandbox.run(this.host, ["sh", "-c", readUnitFilesScript()]);
    if (r.status !== 0) throw new Error(`reading ${this.host}'s unit files failed: ${r.stderr.trim()}`);
    this.units = loadUnits(parseUnitFiles(r.stdout));
  }

  /** Boots: loads the units and queues multi-user.target's start; `reached` resolves when it is reached. */
  async boot(): Promise<{ reached: Promise<JobResult> }> {
    this.bootTime = Date.now();
    this.closed = false;
    this.generation += 1;
    this.runtime.clear();
    await this.reload();
    const [job] = this.enqueueStart(["multi-user.target"]);
    return { reached: job === undefined ? Promise.resolve("done") : job.done };
  }

  /** Resolves once no job is queued or running (a boot's late units, cloud-final among them, included). */
  async settled(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  /** The ACPI shutdown: every active unit stopped, in the reverse of the start order; timers first. */
  async shutdown(): Promise<void> {
    for (const [name, rt] of this.runtime) if (rt.timer !== undefined) this.disarm(name);
    const active = [...this.runtime].filter(([, rt]) => rt.state !== "inactive" && rt.state !== "failed");
    const jobs = active.map(([name]) => this.enqueueStop(name));
    await Promise.all(jobs.map((j) => j.done));
  }

  /** Forgets everything run (the host's processes are gone): timers cleared, nothing stopped. */
  close(): void {
    this.closed = true;
    for (const rt of this.runtime.values()) clearTimeout(rt.timer?.handle);
    for (const job of this.jobs.values()) job.resolve("canceled");
    this.jobs.clear();
  }

  rt(name: string): UnitRuntime {
    let rt = this.runtime.get(name);
    if (rt === undefined) {
      rt = { state: "inactive", result: "success" };
      this.runtime.set(name, rt);
    }
    return rt;
  }

  /** A loaded unit, or the error systemctl gives for one it cannot find. */
  unit(name: string): LoadedUnit {
    const unit = this.units.get(name);
    if (unit === undefined || unit.load === "not-found") throw new ToolError(`Unit ${name} not found.`, 5);
    if (unit.load === "masked") throw new ToolError(`Unit ${name} is masked.`, 1);
    if (unit.load === "error")
      throw new ToolError(`Unit ${name} has a bad unit file setting: ${unit.loadError ?? "refused"}`, 1);
    return unit;
  }

  // ---- jobs ------------------------------------------------------------------------------

  /** Start jobs for `names` and everything they pull in; returns the jobs of `names` (none for an active unit). */
  enqueueStart(names: string[]): Job[] {
    for (const name of names) this.unit(name);
    const closure = this.pulledIn(names);
    const wanted: Job[] = [];
    for (const name of closure) {
      const existing = this.jobs.get(name);
      const rt = this.rt(name);
      let job: Job | undefined = existing?.type === "start" ? existing : undefined;
      if (job === undefined && (existing !== undefined || (rt.state !== "active" && rt.state !== "activating"))) {
        job = this.newJob(name, "start");
        void this.runStart(job, existing);
      }
      if (job !== undefined && names.includes(name)) wanted.push(job);
    }
    return wanted;
  }

  /** `names` and, through Wants= and Requires=, every unit they pull in. */
  private pulledIn(names: string[]): string[] {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      const unit = this.units.get(name);
      if (unit === undefined || unit.load !== "loaded") return;
      seen.add(name);
      for (const dep of [...unit.requires, ...unit.wants]) visit(dep);
    };
    for (const name of names) visit(name);
    return [...seen];
  }

  private newJob(unit: string, type: Job["type"]): Job {
    let resolve: (result: JobResult) => void = () => undefined;
    const done = new Promise<JobResult>((r) => (resolve = r));
    const job: Job = { unit, type, done, resolve };
    job.resolve = (result) => {
      job.result ??= result;
      if (this.jobs.get(unit) === job) this.jobs.delete(unit);
      resolve(job.result);
    };
    this.jobs.set(unit, job);
    return job;
  }

  /** Whether `job` must wait for `other` (systemd's ordering of two jobs). */
  private waitsFor(job: Job, other: Job): boolean {
    if (job === other) return false;
    const after = orderedAfter(this.units, job.unit);
    const otherAfter = orderedAfter(this.units, other.unit);
    if (job.type === "start" && other.type === "start") return after.has(other.unit);
    if (job.type === "start") return after.has(other.unit) || otherAfter.has(job.unit);
    if (other.type === "stop") return otherAfter.has(job.unit);
    return false;
  }

  /** Waits for every job ordered before `job`, skipping one that would wait for it in turn (a cycle). */
  private async ordered(job: Job): Promise<void> {
    // A transaction's jobs are all queued in one turn: look at the others only after it.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      if (this.closed) return;
      const blockers = [...this.jobs.values()].filter((other) => this.waitsFor(job, other));
      const cyclic = blockers.filter((b) => this.reaches(b, job, new Set()));
      for (const b of cyclic)
        this.note(`ordering cycle between ${job.unit} and ${b.unit}: ${job.unit}'s ${job.type} goes first`);
      const waiting = blockers.filter((b) => !cyclic.includes(b));
      if (waiting.length === 0) return;
      await Promise.race(waiting.map((b) => b.done));
    }
  }

  private reaches(from: Job, to: Job, seen: Set<Job>): boolean {
    if (seen.has(from)) return false;
    seen.add(from);
    return [...this.jobs.values()].some((j) => this.waitsFor(from, j) && (j === to || this.reaches(j, to, seen)));
  }

  private async runStart(job: Job, before: Job | undefined): Promise<void> {
    if (before !== undefined) await before.done;
    await this.ordered(job);
    if (this.closed) {
      job.resolve("canceled");
      return;
    }
    const unit = this.units.get(job.unit);
    const rt = this.rt(job.unit);
    if (unit === undefined || unit.load !== "loaded") {
      job.resolve("failed");
      return;
    }
    const after = orderedAfter(this.units, job.unit);
    const failedDep = [...unit.requires].find((dep) => {
      const other = this.units.get(dep);
      return (
        other?.load !== "loaded" ||
        (after.has(dep) && this.rt(dep).state !== "active" && this.rt(dep).lastJob !== "done")
      );
    });
    if (failedDep !== undefined) {
      rt.result = "dependency";
      rt.lastJob = "dependency";
      job.why = `a dependency (${failedDep}) failed`;
      this.note(`${job.unit}: dependency ${failedDep} failed, not started`);
      job.resolve("dependency");
      return;
    }
    if (!(await this.conditionsHold(unit))) {
      rt.lastJob = "done";
      job.resolve("done");
      return;
    }
    try {
      await this.activate(unit, rt);
      rt.lastJob = "done";
      job.resolve("done");
    } catch (error) {
      rt.lastJob = error instanceof StartFailed && error.result === "timeout" ? "timeout" : "failed";
      job.why = error instanceof Error ? error.message : String(error);
      this.note(`${job.unit} failed: ${job.why}`);
      job.resolve(rt.lastJob);
    }
  }

  /** ConditionPathExists= and the like, on the host: a condition that fails skips the unit (not a failure). */
  private async conditionsHold(unit: LoadedUnit): Promise<boolean> {
    for (const c of unit.conditions) {
      const test = c.key === "ConditionPathIsDirectory" ? "-d" : c.key === "ConditionFileNotEmpty" ? "-s" : "-e";
      const r = await this.sandbox.run(this.host, ["test", test, c.path]);
      if ((r.status === 0) === c.negate) return false;
    }
    return true;
  }

  private async activate(unit: LoadedUnit, rt: UnitRuntime): Promise<void> {
    if (unit.type === "target") {
      this.setState(unit.name, rt, "active");
      return;
    }
    if (unit.type === "timer") {
      this.startTimer(unit, rt);
      return;
    }
    if (unit.type !== "service")
      throw new Error(`the twin does not run ${unit.name.slice(unit.name.lastIndexOf(".") + 1)} units`);
    const config = serviceConfig(unit.name, unit.sections);
    if (rt.service === undefined || !sameConfig(rt.service.config, config)) {
      const generation = this.generation;
      rt.service = new Service(this.sandbox, this.host, config, (state) => {
        if (generation === this.generation && !this.closed) this.onServiceState(unit.name, state);
      });
    }
    await rt.service.start();
  }

  private onServiceState(name: string, state: Service["state"]): void {
    const rt = this.rt(name);
    this.setState(name, rt, state);
    if (rt.service !== undefined) rt.result = rt.service.result;
  }

  private setState(name: string, rt: UnitRuntime, state: ActiveState): void {
    const was = rt.state;
    rt.state = state;
    if (state === "active" && was !== "active") rt.activeEnter = Date.now();
    if ((state === "inactive" || state === "failed") && was !== state) rt.inactiveEnter = Date.now();
    if (state === "failed" && was !== "failed")
      this.note(`${name} entered failed state (${rt.service?.result ?? "failed"})`);
    // A timer's next elapse follows the unit it starts.
    for (const timer of this.units.values())
      if (timer.type === "timer" && triggeredBy(timer) === name && this.rt(timer.name).timer !== undefined)
        this.arm(timer.name);
  }

  /** A stop job for `name` and for every active unit that Requires=, BindsTo= or is PartOf= it. */
  enqueueStop(name: string): Job {
    const existing = this.jobs.get(name);
    if (existing?.type === "stop") return existing;
    const job = this.newJob(name, "stop");
    for (const other of this.units.values())
      if (other.stopsWith.has(name) && this.isActive(other.name) && this.jobs.get(other.name)?.type !== "stop")
        this.enqueueStop(other.name);
    void this.runStop(job, existing);
    return job;
  }

  private isActive(name: string): boolean {
    const state = this.runtime.get(name)?.state;
    return state === "active" || state === "activating" || state === "reloading";
  }

  private async runStop(job: Job, before: Job | undefined): Promise<void> {
    if (before !== undefined) before.resolve("canceled");
    await this.ordered(job);
    const rt = this.rt(job.unit);
    if (rt.timer !== undefined) this.disarm(job.unit);
    if (rt.service !== undefined) await rt.service.stop();
    else if (rt.state !== "failed") this.setState(job.unit, rt, "inactive");
    job.resolve("done");
  }

  /** Restart: a stop (with the units that require it) then a start of the same units. */
  async restart(name: string): Promise<Job[]> {
    this.unit(name);
    const dependents = [...this.units.values()]
      .filter((u) => u.stopsWith.has(name) && this.isActive(u.name))
      .map((u) => u.name);
    if (this.isActive(name) || this.rt(name).state === "failed") await this.enqueueStop(name).done;
    return this.enqueueStart([name, ...dependents]);
  }

  // ---- timers ----------------------------------------------------------------------------

  private startTimer(unit: LoadedUnit, rt: UnitRuntime): void {
    const timer = unit.sections.Timer ?? {};
    if (timer.OnCalendar !== undefined)
      throw new Error(
        `${unit.name}: the twin does not carry out OnCalendar= (realtime timers); use a relative setting`,
      );
    if (!TIMER_KEYS.some((k) => timer[k] !== undefined))
      throw new Error(`${unit.name} has no timer setting the twin carries out (${TIMER_KEYS.join(", ")})`);
    this.unit(triggeredBy(unit));
    rt.timer = { fired: new Set(), ...(rt.timer?.last === undefined ? {} : { last: rt.timer.last }) };
    this.setState(unit.name, rt, "active");
    this.arm(unit.name);
  }

  /** The timer's next elapse from its settings (systemd.timer(5)); sets the wake-up. */
  private arm(name: string): void {
    const unit = this.units.get(name);
    const rt = this.rt(name);
    const timer = rt.timer;
    if (unit === undefined || timer === undefined || this.closed) return;
    clearTimeout(timer.handle);
    const target = this.rt(triggeredBy(unit));
    const started = rt.activeEnter ?? Date.now();
    const bases: Record<(typeof TIMER_KEYS)[number], number | undefined> = {
      OnBootSec: this.bootTime,
      OnStartupSec: this.bootTime,
      OnActiveSec: started,
      OnUnitActiveSec: target.activeEnter,
      OnUnitInactiveSec: target.inactiveEnter,
    };
    const candidates: { key: string; at: number }[] = [];
    // The unit is not inactive while it runs: OnUnitInactiveSec waits for it.
    const running = this.isActive(triggeredBy(unit));
    for (const key of TIMER_KEYS) {
      if (key === "OnUnitInactiveSec" && running) continue;
      const base = bases[key];
      const values = unit.sections.Timer?.[key];
      if (base === undefined || values === undefined || timer.fired.has(key)) continue;
      for (const v of values) candidates.push({ key, at: base + timeSpanMs(v) });
    }
    // A relative-to-the-unit setting counts only from a run after the timer's own last elapse.
    const due = candidates.filter((c) => ONCE_PER_BOOT.has(c.key) || timer.last === undefined || c.at > timer.last);
    const next = due.sort((a, b) => a.at - b.at)[0];
    if (next === undefined) {
      delete timer.next;
      return;
    }
    timer.next = next.at;
    timer.handle = setTimeout(
      () => {
        this.elapse(name, next.key);
      },
      Math.max(0, next.at - Date.now()),
    );
  }

  private disarm(name: string): void {
    const rt = this.rt(name);
    clearTimeout(rt.timer?.handle);
    delete rt.timer;
  }

  private elapse(name: string, key: string): void {
    const unit = this.units.get(name);
    const timer = this.rt(name).timer;
    if (unit === undefined || timer === undefined || this.closed) return;
    if (ONCE_PER_BOOT.has(key)) timer.fired.add(key);
    timer.last = Date.now();
    const service = triggeredBy(unit);
    try {
      if (!this.isActive(service)) this.enqueueStart([service]);
    } catch (error) {
      this.note(`${name} could not start ${service}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.arm(name);
  }

  // ---- for systemctl ---------------------------------------------------------------------

  note(line: string): void {
    this.log.push(`${new Date().toISOString()} ${this.host}: ${line}`);
  }

  /** Waits for a job; the error systemctl prints when it did not succeed. */
  static async outcome(job: Job): Promise<void> {
    const result = await job.done;
    if (result === "done" || result === "skipped" || result === "canceled") return;
    if (result === "dependency")
      throw new ToolError(`A dependency job for ${job.unit} failed. See 'journalctl -xe' for details.`, 1);
    const why = result === "timeout" ? "a timeout was exceeded" : "the control process exited with error code";
    throw new ToolError(
      `Job for ${job.unit} failed because ${why}.\nSee "systemctl status ${job.unit}" and "journalctl -xeu ${job.unit}" for details.`,
      1,
    );
  }

  /** Whether any job is queued (for tests and status). */
  get busy(): boolean {
    return this.jobs.size > 0;
  }

  /** Every unit's state, for status and tests. */
  states(): Record<string, ActiveState> {
    return Object.fromEntries([...this.runtime].map(([name, rt]) => [name, rt.state]));
  }

  /** Units in the failed state. */
  failed(): string[] {
    return [...this.runtime].filter(([, rt]) => rt.state === "failed").map(([name]) => name);
  }

  /** A service's notes (what the twin stood in for while running it). */
  notes(): string[] {
    return [...this.runtime.values()].flatMap((rt) => rt.service?.notes ?? []);
  }
}

function sameConfig(a: ServiceConfig, b: ServiceConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
