/**
 * A running twin: the sandbox and everything in it (machines, volumes, load balancers, exec
 * clients), owned by one process. The daemon (server.ts) holds one per state directory between
 * CLI commands; a test may hold one in its own process. The provider twins (AWS, Kubernetes)
 * drive it through these methods and volumes.ts, machine.ts and forwarder.ts:
 *
 *   const twin = await Twin.start({ dir, tools });
 *   const m = await twin.addMachine({ name, address, prefix, rootDisk, boot, packages: ["cloud-init"] });
 *   twin.volumes.create({ id, sizeBytes, model, lifetime }); await twin.volumes.attach(id, name, "nvme1n1");
 *   await twin.forwarders.set({ name, listen, targets, healthCheck, clientAddress, whenNoneHealthy });
 *   twin.sandbox.setRecords({ "core-0.zester.internal": ["10.0.1.10"] }); await twin.sandbox.setPolicy(…);
 *   const exec = await twin.openExec("10.0.3.0/24"); … exec.command(["nats", "server", "ls"]) …; await exec.release();
 *   await twin.stop();
 *
 * The state directory holds the twin's runtime parts (its sandbox's folder, the daemon's socket,
 * record and log) and whatever a provider twin marks as its own (`own`, e.g. its stack state):
 * `down` removes exactly those.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Forwarders, type ForwarderState } from "../host/forwarder";
import { imageLayers, writeTwinLayer } from "../host/image";
import { Machine, type MachineSpec } from "../host/machine";
import { Sandbox } from "../host/sandbox";
import { CLOUD_INIT_PACKAGES, XFSPROGS_PACKAGES, xfsToolsIn, type UnpackedTool } from "../host/tools";
import { Volumes, type VolumeInfo } from "../host/volumes";
import type { ActiveState } from "../host/systemd";

/** The Debian tools a twin runs, unpacked into .cache/ by its caller (scripts/twin-daemon.ts, the tests). */
export interface TwinTools {
  nft: UnpackedTool;
  /** xfsprogs' tree (XFSPROGS_PACKAGES): every machine's image has it. */
  xfsprogs: string;
  /** cloud-init's tree (CLOUD_INIT_PACKAGES), for machines that ask for it. @default none */
  cloudInit?: string;
}

export interface TwinOptions {
  /** The state directory. */
  dir: string;
  tools: TwinTools;
}

/** A machine as a provider adds it: what image packages it has beyond xfsprogs. */
export interface TwinMachineSpec extends MachineSpec {
  /** @default none */
  packages?: "cloud-init"[];
}

/** An exec client: a network endpoint in a subnet, with this machine's files; gone on release. */
export interface ExecClient {
  name: string;
  address: string;
  /** The command line that runs `argv` on the client (spawn it; its exit status is the command's). */
  command(argv: string[]): string[];
  release(): Promise<void>;
}

export interface TwinDescription {
  dir: string;
  machines: {
    name: string;
    address: string;
    running: boolean;
    boots: number;
    units: Record<string, ActiveState>;
    failed: string[];
  }[];
  volumes: VolumeInfo[];
  loadBalancers: ForwarderState[];
}

/** The runtime parts every twin has in its state directory (the daemon's too). */
export const RUNTIME_PARTS = ["sandbox", "control.sock", "twin.json", "daemon.log"] as const;

export class Twin {
  readonly volumes: Volumes;
  readonly forwarders: Forwarders;
  private readonly machines = new Map<string, Machine>();
  private readonly owned = new Set<string>();
  private readonly twinLayer: string;
  private execs = 0;
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly sandbox: Sandbox,
    private readonly tools: TwinTools,
  ) {
    const base = sandbox.options.dir;
    this.volumes = new Volumes(sandbox, path.join(base, "volumes"), xfsToolsIn(tools.xfsprogs));
    this.forwarders = new Forwarders(sandbox, tools.nft);
    this.twinLayer = writeTwinLayer(path.join(base, "image"));
  }

  static async start(options: TwinOptions): Promise<Twin> {
    const dir = path.resolve(options.dir);
    if (!/^[A-Za-z0-9._/+-]+$/.test(dir))
      throw new Error(
        `the twin's state directory ${dir}: letters, digits and . _ / + - only (its paths go into shell scripts and mount options)`,
      );
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const sandbox = await Sandbox.start({ dir: path.join(dir, "sandbox"), nft: options.tools.nft });
    return new Twin(dir, sandbox, options.tools);
  }

  /** Marks an entry of the state directory as the twin's own: `down` removes it with the rest. */
  own(entry: string): void {
    if (entry.includes("/") || entry === "" || entry.startsWith("."))
      throw new Error(`"${entry}": an entry of the state directory, by its name`);
    this.owned.add(entry);
  }

  /** Everything `down` removes from the state directory. */
  ownedParts(): string[] {
    return [...RUNTIME_PARTS, ...this.owned].sort();
  }

  /** Adds a machine and boots it. */
  async addMachine(spec: TwinMachineSpec): Promise<Machine> {
    if (this.machines.has(spec.name)) throw new Error(`the twin has a machine ${spec.name} already`);
    const cloudInit = spec.packages?.includes("cloud-init") === true;
    if (cloudInit && this.tools.cloudInit === undefined)
      throw new Error(
        `${spec.name} asks for cloud-init, but the twin was started without its tree (TwinTools.cloudInit)`,
      );
    const image = imageLayers(this.twinLayer, {
      xfsprogs: this.tools.xfsprogs,
      ...(cloudInit && this.tools.cloudInit !== undefined ? { cloudInit: this.tools.cloudInit } : {}),
    });
    const machine = await Machine.create(
      {
        sandbox: this.sandbox,
        volumes: this.volumes,
        imagePackages: [...XFSPROGS_PACKAGES, ...(cloudInit ? CLOUD_INIT_PACKAGES : [])],
      },
      { ...spec, image },
    );
    this.machines.set(spec.name, machine);
    return machine;
  }

  machine(name: string): Machine {
    const machine = this.machines.get(name);
    if (machine === undefined)
      throw new Error(`no machine ${name} in the twin; it has ${[...this.machines.keys()].join(", ") || "none"}`);
    return machine;
  }

  /** Removes a machine for good (terminate); its volumes are detached and kept. */
  async removeMachine(name: string): Promise<void> {
    const machine = this.machine(name);
    for (const v of this.volumes.list()) if (v.attached?.host === name) await this.volumes.detach(v.id);
    await machine.remove();
    this.machines.delete(name);
  }

  /** A client in `cidr` (the highest free address, below the broadcast), for `exec`. */
  async openExec(cidr: string): Promise<ExecClient> {
    const address = freeAddress(cidr, new Set(this.sandbox.addresses().values()));
    const prefix = Number(cidr.split("/")[1]);
    this.execs += 1;
    const name = `exec-${String(this.execs)}`;
    await this.sandbox.addClient({ name, address, prefix });
    return {
      name,
      address,
      command: (argv) => this.sandbox.commandOn(name, argv),
      release: async () => {
        if (!this.stopped && this.sandbox.has(name)) await this.sandbox.removeHost(name);
      },
    };
  }

  describe(): TwinDescription {
    return {
      dir: this.dir,
      machines: [...this.machines.values()].map((m) => ({
        name: m.name,
        address: m.spec.address,
        running: m.running,
        boots: m.boots,
        units: m.systemd.states(),
        failed: m.systemd.failed(),
      })),
      volumes: this.volumes.list(),
      loadBalancers: this.forwarders.list(),
    };
  }

  /** Ends everything: every machine's processes, the checker, the sandbox and its folder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.forwarders.close();
    for (const machine of this.machines.values()) await machine.close();
    await this.sandbox.stop();
  }
}

/** The highest address of `cidr` below its broadcast that `taken` does not hold. */
export function freeAddress(cidr: string, taken: ReadonlySet<string>): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const prefix = Number(m?.[5]);
  if (m === null || prefix < 8 || prefix > 30)
    throw new Error(`"${cidr}" is not an IPv4 subnet from /8 to /30 (e.g. 10.0.3.0/24)`);
  const base = m.slice(1, 5).reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  const text = (n: number) => [24, 16, 8, 0].map((shift) => String(Math.floor(n / 2 ** shift) % 256)).join(".");
  for (let n = network + size - 2; n > network; n--) if (!taken.has(text(n))) return text(n);
  throw new Error(`no free address left in ${cidr}`);
}
