/**
 * A machine: a host (sandbox.ts) with what a cloud server or a node has around its processes: an
 * init (systemd.ts, with the `systemctl` and `journalctl` its programs call), block devices
 * (volumes.ts, with `lsblk`, `mount`, `xfs_growfs`), the image's packages (`apt-get`), and a boot
 * that a provider fills in. Its power as a cloud's API drives it:
 *
 * - `start()` boots: the host's namespaces, its devices, the provider's boot hook (what runs
 *   before init reads the unit files, as systemd's generators do: cloud-init.ts writes the seed
 *   and enables cloud-init's units), then init starts multi-user.target;
 * - `stop()` is EC2's stop (an ACPI shutdown: every unit stopped in reverse order by its stop
 *   path, then the power goes; instance-store-like volumes are blank when it comes back);
 *   `reboot()` the same without losing them; `crash()` a power loss (no unit is stopped);
 * - `remove()` ends it for good (its disk layers removed).
 *
 * Every interface a provider twin calls is here and in volumes.ts; see docs/twin.md.
 */
import { HostCalls, ToolError, type Call, type Reply } from "./host-calls";
import type { CommandResult } from "./namespaces";
import type { HostSpec, RunOptions, Sandbox } from "./sandbox";
import { Systemctl } from "./systemctl";
import { UnitManager, type JobResult } from "./systemd";
import type { RootDisk, Volumes } from "./volumes";

/** What runs at every boot before init reads the unit files; `count` is 1 at the first boot. */
export type BootHook = (machine: Machine, boot: { count: number }) => Promise<void>;

export interface MachineSpec extends HostSpec {
  /** The root disk lsblk shows (its partition is the root's source). @default none listed */
  rootDisk?: RootDisk;
  /** @default nothing but init */
  boot?: BootHook;
}

export interface MachineContext {
  sandbox: Sandbox;
  volumes: Volumes;
  /** Debian packages the image holds beyond this machine's (the `apt-get` stand-in's answer). */
  imagePackages: readonly string[];
}

export class Machine {
  readonly systemd: UnitManager;
  private readonly systemctl: Systemctl;
  private calls: HostCalls | undefined;
  /** How many times it booted. */
  boots = 0;
  /** Resolves when the last boot reached multi-user.target. */
  booted: Promise<JobResult> = Promise.resolve("done");
  private power: Promise<void> = Promise.resolve();

  private constructor(
    private readonly context: MachineContext,
    readonly spec: MachineSpec,
  ) {
    this.systemd = new UnitManager(context.sandbox, spec.name);
    this.systemctl = new Systemctl(context.sandbox, this.systemd, {
      power: (action) => {
        // The caller is a process of this host: answer it first, then act.
        setTimeout(() => {
          void (action === "reboot" ? this.reboot() : this.stop());
        }, 10);
      },
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** Makes the machine and boots it the first time. */
  static async create(context: MachineContext, spec: MachineSpec): Promise<Machine> {
    const machine = new Machine(context, {
      ...spec,
      ...(spec.rootDisk === undefined || spec.rootSource !== undefined
        ? {}
        : { rootSource: `/dev/${spec.rootDisk.partition}` }),
    });
    if (spec.rootDisk !== undefined) context.volumes.setRootDisk(spec.name, spec.rootDisk);
    machine.calls = await HostCalls.listen(context.sandbox.runtimePaths(spec.name).socket, machine.handlers());
    try {
      await machine.start();
    } catch (error) {
      await machine.close();
      throw error;
    }
    return machine;
  }

  private handlers(): Record<string, (call: Call) => Promise<Reply>> {
    const { volumes } = this.context;
    const name = this.spec.name;
    return {
      systemctl: (call) => this.systemctl.call(call),
      journalctl: (call) => Promise.resolve(this.systemctl.journalctl(call)),
      lsblk: (call) => volumes.lsblk(name, call),
      mount: (call) => volumes.mount(name, call),
      xfs_growfs: (call) => volumes.growfs(name, call),
      mdadm: (call) => volumes.mdadm(name, call),
      "apt-get": (call) => this.aptGet(call),
    };
  }

  /** Writes a file on the machine, as its root would. */
  async writeFile(path: string, content: string, mode = "0644", owner = "root:root"): Promise<void> {
    await this.context.sandbox.writeFile(this.spec.name, path, content, mode, owner);
  }

  /** Runs a shell script on the machine (as root, in its namespaces, with systemd's PATH). */
  async sh(script: string, options: RunOptions = {}): Promise<CommandResult> {
    return this.context.sandbox.run(this.spec.name, ["sh", "-c", script], options);
  }

  get running(): boolean {
    return this.context.sandbox.isRunning(this.spec.name);
  }

  /** Powers on and boots (a no-op when running). Resolves once init has its boot under way. */
  async start(): Promise<void> {
    await this.serial(async () => {
      if (this.running) return;
      const { sandbox, volumes } = this.context;
      if (this.boots === 0) await sandbox.addHost(this.spec);
      else await sandbox.powerOn(this.spec.name);
      this.boots += 1;
      await volumes.relink(this.spec.name);
      await this.spec.boot?.(this, { count: this.boots });
      this.booted = (await this.systemd.boot()).reached;
    });
  }

  /** EC2's stop: ACPI shutdown, power off; instance-store-like volumes lose their data. */
  async stop(): Promise<void> {
    await this.serial(async () => {
      await this.shutdown(true);
      await this.context.volumes.hostStopped(this.spec.name);
    });
  }

  /** A reboot: ACPI shutdown and boot again; every volume keeps its data. */
  async reboot(): Promise<void> {
    await this.serial(() => this.shutdown(true));
    await this.start();
  }

  /** The power goes (a hardware fault): nothing is stopped first. */
  async crash(): Promise<void> {
    await this.serial(() => this.shutdown(false));
  }

  /** Terminates it: stopped (ACPI), its host and disk layers removed. Volumes stay (detach them first). */
  async remove(): Promise<void> {
    await this.serial(async () => {
      await this.shutdown(true);
      await this.context.sandbox.removeHost(this.spec.name);
    });
    await this.calls?.close();
  }

  private async shutdown(acpi: boolean): Promise<void> {
    if (!this.running) return;
    if (acpi) await this.systemd.shutdown();
    this.systemd.close();
    await this.context.sandbox.powerOff(this.spec.name);
  }

  /** One power action at a time, in the order asked. */
  private serial(action: () => Promise<void>): Promise<void> {
    const next = this.power.then(action, action);
    this.power = next.catch(() => undefined);
    return next;
  }

  /** Stops listening (the twin is going away; the sandbox takes the host with it). */
  async close(): Promise<void> {
    this.systemd.close();
    await this.power.catch(() => undefined);
    await this.calls?.close();
  }

  /**
   * The `apt-get` stand-in: a host reaches no package archive, so `update` is a no-op and
   * `install` succeeds for packages the image holds (this machine's, and those the twin unpacked
   * into its layers), failing as apt does for any other.
   */
  private async aptGet(call: Call): Promise<Reply> {
    const words = call.args.filter((a) => !a.startsWith("-"));
    const verb = words[0];
    if (verb === "update") return { stdout: "Reading package lists... Done\n" };
    if (verb !== "install")
      throw new ToolError(`E: the twin's apt-get carries out update and install, not ${verb ?? "nothing"}`, 100);
    const missing: string[] = [];
    for (const pkg of words.slice(1).map((w) => w.replace(/[=:].*$/, ""))) {
      if (this.context.imagePackages.includes(pkg)) continue;
      const r = await this.context.sandbox.run(this.spec.name, ["dpkg-query", "-W", "-f=${Status}", pkg]);
      if (!r.stdout.includes("install ok installed")) missing.push(pkg);
    }
    if (missing.length > 0)
      throw new ToolError(
        `E: Unable to locate package ${missing.join(", ")} (the twin's hosts reach no archive: the image has this machine's packages and ${this.context.imagePackages.join(", ") || "no others"})`,
        100,
      );
    return {
      stdout: `${words
        .slice(1)
        .map((p) => `${p} is already the newest version.`)
        .join("\n")}\n`,
    };
  }
}
