/**
 * The twin's world: one unprivileged sandbox (namespaces.ts) holding hosts, each with its own
 * network, UTS, mount and PID namespaces, address, host name, root directory (host-root.ts) and
 * /etc/hosts fed by the twin's DNS records; outside clients ("exec": a command on the twin's
 * network with this machine's file system); packet filtering and cuts (policy.ts) in the sandbox's
 * network namespace, which every packet between two hosts crosses. No packet can leave: the
 * sandbox's network has no link to this machine's. `stop` ends it all and removes its directories.
 */
import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import {
  firmwareScript,
  layerDirectories,
  mountRootScript,
  readOnlySysctls,
  unmountRootScript,
  type HostRootPaths,
  type HostRuntimePaths,
  type ImageLayers,
} from "./host-root";
import {
  enterHost,
  enterSandbox,
  initScript,
  mustRun,
  namespaceInit,
  nsPids,
  runCommand,
  HOST_PATH,
  spawnUnshare,
  toolEnvironment,
  type CommandResult,
} from "./namespaces";
import { writeBaseLayer } from "./image";
import { renderRuleset, type HostPolicy } from "./policy";
import type { UnpackedTool } from "./tools";

/** nft and the libraries it needs (Debian's nftables, fetched into .cache/ by the caller). */
export type NftTool = UnpackedTool;

export interface SandboxOptions {
  /** The twin's directory: hosts' layers and logs go under it (removed by `stop`). */
  dir: string;
  /** Packet filtering; without it policies and cuts are refused, naming what is missing. */
  nft?: NftTool;
}

export interface HostSpec {
  name: string;
  /** Its address in its subnet, and the subnet's prefix length. */
  address: string;
  prefix: number;
  /** @default name */
  hostname?: string;
  /** Image layers between the host's own files and this machine's (image.ts). @default none */
  image?: ImageLayers;
  /** The root file system's source name (`findmnt -no SOURCE /`), e.g. `/dev/nvme0n1p1`. @default twin-root */
  rootSource?: string;
}

/**
 * The environment a host's commands start with (systemd's default PATH): nothing of the process
 * that drives the twin leaks into a host.
 */
export const HOST_ENVIRONMENT: Readonly<Record<string, string>> = {
  PATH: HOST_PATH,
  LANG: "C.UTF-8",
};

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

interface Endpoint {
  spec: HostSpec;
  /** The link's name on the sandbox side. */
  link: string;
  /** Its namespaces' first process: this process's pid, and the sandbox's. */
  pid?: number;
  sandboxPid?: number;
  anchor?: ChildProcess;
  /** A host has a root of its own; a client uses this machine's. */
  root?: HostRootPaths;
}

const SANDBOX_FLAGS = ["--user", "--net", "--mount", "--pid", "--mount-proc"];
/** Slave propagation: the twin's later mounts reach the host, nothing the host unmounts reaches back. */
const HOST_FLAGS = ["--net", "--uts", "--mount", "--propagation", "slave", "--pid", "--ipc"];
const CLIENT_FLAGS = ["--net", "--pid"];
/** The ids a sandbox started by root maps (itself outside): enough for every system and user account. */
const MAPPED_IDS = 65_536;

export class Sandbox {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly policies = new Map<string, HostPolicy>();
  private readonly cuts = new Map<string, readonly string[]>();
  private records: Record<string, string[]> = {};
  private links = 0;
  private stopped = false;

  private constructor(
    readonly options: SandboxOptions,
    private readonly init: ChildProcess,
    /** The sandbox's first process, as this process sees it. */
    readonly pid: number,
    /** Whether every account up to MAPPED_IDS is mapped (the twin runs as root), or only root. */
    readonly mapsAllIds: boolean,
    /** Every host's bottom image layer (image.ts, writeBaseLayer). */
    private readonly baseLayer: string,
  ) {}

  /** Makes the sandbox: its namespaces, loopback, forwarding, and the twin's /etc/hosts for clients. */
  static async start(options: SandboxOptions): Promise<Sandbox> {
    mkdirSync(path.join(options.dir, "run"), { recursive: true });
    // Root maps every account (a host's `nats` owns its files, a unit runs as its User=); anyone
    // else maps only their own uid, as root (unshare --map-root-user).
    const mapsAllIds = process.getuid?.() === 0;
    const init = spawnUnshare(
      [],
      mapsAllIds ? SANDBOX_FLAGS : [...SANDBOX_FLAGS, "--map-root-user"],
      initScript(true),
      true,
    );
    if (init.pid === undefined) throw new Error("unshare could not start: is util-linux installed?");
    let stderr = "";
    init.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let pid: number;
    try {
      if (mapsAllIds) await mapIdentity(init.pid, MAPPED_IDS);
      pid = await namespaceInit(init.pid, 1);
    } catch (error) {
      init.kill("SIGKILL");
      throw new Error(
        `the sandbox's namespaces could not be made (${stderr.trim() || (error instanceof Error ? error.message : String(error))}); ` +
          "the kernel must allow unprivileged user namespaces (user.max_user_namespaces > 0, and on Debian/Ubuntu " +
          "kernel.unprivileged_userns_clone = 1 / no AppArmor restriction): see docs/twin.md",
        { cause: error },
      );
    }
    const sandbox = new Sandbox(
      options,
      init,
      pid,
      mapsAllIds,
      writeBaseLayer(path.join(options.dir, "base"), !mapsAllIds),
    );
    const hostsFile = sandbox.runPath("hosts");
    const resolvFile = sandbox.runPath("resolv.conf");
    writeFileSync(hostsFile, hostsText({}, undefined));
    writeFileSync(resolvFile, RESOLV_CONF);
    await sandbox.inSandbox(
      [
        "set -eu",
        ...readOnlySysctls("/proc"),
        "ip link set lo up",
        "sysctl -qw net.ipv4.ip_forward=1",
        // A client with this machine's files resolves the twin's names, and asks no outside server.
        `mount --bind ${hostsFile} /etc/hosts`,
        `mount --bind ${resolvFile} /etc/resolv.conf`,
      ].join("\n"),
    );
    return sandbox;
  }

  private runPath(name: string): string {
    return path.join(this.options.dir, "run", name);
  }

  /** Runs a shell script inside the sandbox (its network, mounts and PIDs). */
  async inSandbox(script: string, input?: string): Promise<string> {
    return mustRun([...enterSandbox(this.pid), "--", "sh", "-c", script], input === undefined ? {} : { input });
  }

  /** Adds a host and boots it. */
  async addHost(spec: HostSpec): Promise<void> {
    this.checkName(spec);
    const base = path.join(this.options.dir, "hosts", spec.name);
    const root: HostRootPaths = {
      root: path.join(base, "root"),
      layers: path.join(base, "layers"),
      runtime: this.runtimePaths(spec.name),
      image: withBase(spec.image ?? {}, this.baseLayer),
      ...(spec.rootSource === undefined ? {} : { rootSource: spec.rootSource }),
    };
    for (const dir of layerDirectories(root)) mkdirSync(dir, { recursive: true });
    mkdirSync(path.join(base, "logs"), { recursive: true });
    const endpoint: Endpoint = { spec, link: this.nextLink(), root };
    this.endpoints.set(spec.name, endpoint);
    await this.inSandbox(mountRootScript(root));
    await this.boot(endpoint);
  }

  /** Adds an outside client: a network endpoint in a subnet, with this machine's file system. */
  async addClient(spec: HostSpec): Promise<void> {
    this.checkName(spec);
    const endpoint: Endpoint = { spec, link: this.nextLink() };
    this.endpoints.set(spec.name, endpoint);
    await this.boot(endpoint);
  }

  /** A host's `/run/twin` on disk (host-root.ts): its call socket, devices and mounts. */
  runtimePaths(host: string): HostRuntimePaths {
    const base = path.join(this.options.dir, "hosts", host, "twin");
    return {
      socket: path.join(base, "twin.sock"),
      devices: path.join(base, "devices"),
      mounts: path.join(base, "mounts"),
    };
  }

  private checkName(spec: HostSpec): void {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(spec.name))
      throw new Error(`host name "${spec.name}": lower-case letters, digits and dashes, at most 63`);
    if (this.endpoints.has(spec.name)) throw new Error(`the twin has a host "${spec.name}" already`);
  }

  private nextLink(): string {
    this.links += 1;
    return `vh${String(this.links)}`;
  }

  /** Starts the endpoint's namespaces and links it to the sandbox's network. */
  private async boot(endpoint: Endpoint): Promise<void> {
    const { spec } = endpoint;
    const script =
      endpoint.root === undefined
        ? initScript(false)
        : firmwareScript(endpoint.root, spec.hostname ?? spec.name, initScript(false));
    if (endpoint.root !== undefined) this.writeHostsFile(endpoint);
    const anchor = spawnUnshare(
      enterSandbox(this.pid).concat("--"),
      endpoint.root === undefined ? CLIENT_FLAGS : HOST_FLAGS,
      script,
      false,
    );
    if (anchor.pid === undefined) throw new Error(`${spec.name} could not start`);
    let stderr = "";
    anchor.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      endpoint.pid = await namespaceInit(anchor.pid, 2);
    } catch {
      anchor.kill("SIGKILL");
      throw new Error(`${spec.name} did not boot: ${stderr.trim()}`);
    }
    // Nothing may enter the host before it has pivoted into its own root: until then its root is
    // this machine's, and a write would land on this machine.
    if (endpoint.root !== undefined) await untilPivoted(endpoint.pid, () => stderr);
    endpoint.sandboxPid = nsPids(endpoint.pid)[1];
    endpoint.anchor = anchor;
    await this.link(endpoint);
  }

  private async link(endpoint: Endpoint): Promise<void> {
    const { spec, link } = endpoint;
    const inner = String(endpoint.sandboxPid);
    await this.inSandbox(
      [
        "set -eu",
        `ip link add ${link} type veth peer name eth0 netns ${inner}`,
        `ip link set ${link} up`,
        // The sandbox answers every neighbour lookup: each packet crosses it, where it is filtered.
        `sysctl -qw net.ipv4.conf.${link}.proxy_arp=1`,
        // At once: the kernel's default waits up to 0.8 s before it answers for another address.
        `sysctl -qw net.ipv4.neigh.${link}.proxy_delay=0`,
        `ip route add ${spec.address}/32 dev ${link}`,
      ].join("\n"),
    );
    await mustRun([
      ...this.enter(endpoint),
      "--",
      "sh",
      "-c",
      [
        "set -eu",
        "ip link set lo up",
        `ip addr add ${spec.address}/${String(spec.prefix)} dev eth0`,
        "ip link set eth0 up",
        "ip route add default dev eth0",
      ].join("\n"),
    ]);
  }

  private enter(endpoint: Endpoint): string[] {
    if (endpoint.pid === undefined) throw new Error(`${endpoint.spec.name} is not running`);
    if (endpoint.root !== undefined) return enterHost(endpoint.pid);
    // A client: its network and PIDs (its processes end with it); the sandbox's mounts (this
    // machine's files, the twin's /etc/hosts); the caller's working directory.
    return [
      "nsenter",
      `--target=${String(endpoint.pid)}`,
      "--user",
      "--preserve-credentials",
      "--net",
      "--pid",
      `--mount=/proc/${String(this.pid)}/ns/mnt`,
      `--wd=${process.cwd()}`,
    ];
  }

  private endpoint(name: string): Endpoint {
    const endpoint = this.endpoints.get(name);
    if (endpoint === undefined)
      throw new Error(`no host "${name}" in the twin; it has ${[...this.endpoints.keys()].join(", ") || "none"}`);
    return endpoint;
  }

  /**
   * The command line that runs `argv` on `host` (as its processes run), for a caller to spawn: on
   * a host with HOST_ENVIRONMENT and `env` only; on a client with the caller's environment.
   */
  commandOn(host: string, argv: string[], env: Record<string, string> = {}): string[] {
    const endpoint = this.endpoint(host);
    const environment = endpoint.root === undefined ? env : { ...HOST_ENVIRONMENT, ...env };
    const prefix =
      endpoint.root === undefined && Object.keys(env).length === 0
        ? []
        : [
            "env",
            ...(endpoint.root === undefined ? [] : ["-i"]),
            ...Object.entries(environment).map(([k, v]) => `${k}=${v}`),
          ];
    return [...this.enter(endpoint), "--", ...prefix, ...argv];
  }

  /** Every endpoint's address (hosts and clients), by name. */
  addresses(): Map<string, string> {
    return new Map([...this.endpoints].map(([name, e]) => [name, e.spec.address]));
  }

  /** Runs a command on a host (or a client) to completion. */
  async run(host: string, argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    return runCommand(this.commandOn(host, argv, options.env), {
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  }

  /** Starts a long-running process on a host; its output goes to `logFile` (outside the sandbox). */
  spawn(host: string, argv: string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
    const [command, ...args] = this.commandOn(host, argv, env);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const log = openLog(logFile);
    return spawn(command ?? "nsenter", args, { stdio: ["ignore", log, log], env: toolEnvironment() });
  }

  /**
   * Writes a file on a host, as its root would; `owner` (`user:group`) as chown takes it, when the
   * sandbox maps every account (run by root); otherwise the file stays root's, the one id there is.
   */
  async writeFile(host: string, file: string, content: string, mode = "0644", owner = "root:root"): Promise<void> {
    if (!this.mapsAllIds) owner = "root:root";
    await mustRun(
      this.commandOn(host, [
        "sh",
        "-c",
        'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1" && chown "$3" "$1"',
        "write",
        file,
        mode,
        owner,
      ]),
      { input: content },
    );
  }

  /** Copies a file of this machine onto a host (a binary the host would have downloaded). */
  async copyIn(host: string, source: string, file: string, mode = "0755"): Promise<void> {
    const [command, ...args] = this.commandOn(host, [
      "sh",
      "-c",
      'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"',
      "copy",
      file,
      mode,
    ]);
    const child = spawn(command ?? "nsenter", args, { stdio: ["pipe", "ignore", "pipe"], env: toolEnvironment() });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    createReadStream(source).pipe(child.stdin);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`copying ${source} to ${host}:${file} failed: ${stderr.trim()}`);
  }

  async readFile(host: string, file: string): Promise<string> {
    return mustRun(this.commandOn(host, ["cat", file]));
  }

  /** Where a host's logs go, outside the sandbox. */
  logFile(host: string, name: string): string {
    return path.join(this.options.dir, "hosts", host, "logs", `${name}.log`);
  }

  /** Stops a host at once: every process in it ends (its PID namespace goes with its first process). */
  async powerOff(host: string): Promise<void> {
    const endpoint = this.endpoint(host);
    const anchor = endpoint.anchor;
    if (endpoint.pid === undefined || anchor === undefined) return;
    const exited = new Promise((resolve) => anchor.once("exit", resolve));
    process.kill(endpoint.pid, "SIGKILL");
    await exited;
    delete endpoint.pid;
    delete endpoint.sandboxPid;
    delete endpoint.anchor;
    await this.inSandbox(`ip link del ${endpoint.link} 2>/dev/null || true`);
  }

  /** Starts a stopped host again: a fresh /run, /tmp and processes; its disk layers kept. */
  async powerOn(host: string): Promise<void> {
    const endpoint = this.endpoint(host);
    if (endpoint.pid !== undefined) return;
    await this.boot(endpoint);
  }

  /** Whether the twin has an endpoint (host or client) of that name. */
  has(host: string): boolean {
    return this.endpoints.has(host);
  }

  /** Whether a host (or client) of that name exists and runs. */
  isRunning(host: string): boolean {
    return !this.stopped && this.endpoints.get(host)?.pid !== undefined;
  }

  hosts(): HostSpec[] {
    return [...this.endpoints.values()].filter((e) => e.root !== undefined).map((e) => e.spec);
  }

  /** Removes a host for good: stopped, unlinked, its root unmounted and its layers deleted. */
  async removeHost(host: string): Promise<void> {
    const endpoint = this.endpoint(host);
    await this.powerOff(host);
    if (endpoint.root !== undefined) {
      await this.inSandbox(unmountRootScript(endpoint.root));
      removeTree(path.join(this.options.dir, "hosts", host));
    }
    this.endpoints.delete(host);
  }

  /** The twin's DNS records (name → addresses): every host's /etc/hosts, and the clients'. */
  setRecords(records: Record<string, string[]>): void {
    this.records = structuredClone(records);
    // A bind-mounted file is rewritten in place (a rename would leave the mount on the old file).
    writeFileSync(this.runPath("hosts"), hostsText(this.records, undefined));
    for (const endpoint of this.endpoints.values()) if (endpoint.root !== undefined) this.writeHostsFile(endpoint);
  }

  /** A host's /etc/hosts, written into its /etc's upper layer (where its overlay reads it). */
  private writeHostsFile(endpoint: Endpoint): void {
    if (endpoint.root === undefined) return;
    const etc = path.join(endpoint.root.layers, "etc", "upper");
    const own = { name: endpoint.spec.hostname ?? endpoint.spec.name, address: endpoint.spec.address };
    writeFileSync(path.join(etc, "hosts"), hostsText(this.records, own));
    writeFileSync(path.join(etc, "resolv.conf"), RESOLV_CONF);
    writeFileSync(path.join(etc, "hostname"), `${own.name}\n`);
  }

  /** A host's (address's) policy; undefined: open. */
  async setPolicy(address: string, policy: HostPolicy | undefined): Promise<void> {
    if (policy === undefined) this.policies.delete(address);
    else this.policies.set(address, policy);
    await this.applyRules();
  }

  /** Cuts `addresses` off (nothing in or out, replies included) until `restore`, or for `seconds`. */
  async cut(id: string, addresses: string[], seconds?: number): Promise<void> {
    this.cuts.set(id, addresses);
    await this.applyRules();
    if (seconds !== undefined)
      setTimeout(() => {
        if (!this.stopped) void this.restore(id);
      }, seconds * 1000).unref();
  }

  async restore(id: string): Promise<void> {
    if (!this.cuts.delete(id)) return;
    await this.applyRules();
  }

  private async applyRules(): Promise<void> {
    const nft = this.options.nft;
    if (nft === undefined)
      throw new Error(
        "packet filtering needs nft (Debian's nftables, fetched into .cache/): the twin was started without it",
      );
    await mustRun([...enterSandbox(this.pid), "--", "env", `LD_LIBRARY_PATH=${nft.libraryPath}`, nft.bin, "-f", "-"], {
      input: renderRuleset({ policies: this.policies, cuts: this.cuts }),
    });
  }

  /** Ends the sandbox, and with it every host and process; removes the twin's directories. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise((resolve) => this.init.once("exit", resolve));
    if (this.init.exitCode === null && this.init.signalCode === null) {
      this.init.stdin?.end();
      process.kill(this.pid, "SIGKILL");
      await exited;
    }
    for (const endpoint of this.endpoints.values()) endpoint.anchor?.kill("SIGKILL");
    removeTree(this.options.dir);
  }
}

/** A host's image layers with the base layer below them (for each folder the base has). */
function withBase(image: ImageLayers, base: string): ImageLayers {
  const layers: ImageLayers = { ...image };
  for (const folder of ["usr", "etc", "var", "opt", "srv"] as const) {
    const own = path.join(base, folder);
    if (existsSync(own)) layers[folder] = [...(image[folder] ?? []), own];
  }
  return layers;
}

/**
 * Maps ids 0…count-1 of `unshare`'s new user namespace to the same ids outside, once it has made
 * the namespace (its /proc entry then names another user namespace than this process's).
 */
async function mapIdentity(unsharePid: number, count: number): Promise<void> {
  const own = readlinkSync("/proc/self/ns/user");
  const deadline = Date.now() + 5_000;
  while (readlinkSync(`/proc/${String(unsharePid)}/ns/user`) === own) {
    if (Date.now() > deadline) throw new Error("unshare made no user namespace within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const map = `0 0 ${String(count)}\n`;
  writeFileSync(`/proc/${String(unsharePid)}/uid_map`, map);
  writeFileSync(`/proc/${String(unsharePid)}/gid_map`, map);
}

/** Waits until a host's first process has run its firmware (its command line no longer holds it). */
async function untilPivoted(pid: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, "utf8");
    } catch {
      throw new Error(`the host's firmware failed: ${stderr().trim()}`);
    }
    if (!cmdline.includes("pivot_root")) return;
    if (Date.now() > deadline) throw new Error(`the host's firmware did not finish in 10 s: ${stderr().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const RESOLV_CONF =
  "# The twin answers names from /etc/hosts only; no server is asked.\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

function hostsText(records: Record<string, string[]>, own: { name: string; address: string } | undefined): string {
  const lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"];
  if (own !== undefined) lines.push(`${own.address} ${own.name}`);
  const byAddress = new Map<string, string[]>();
  for (const [name, addresses] of Object.entries(records).sort(([a], [b]) => a.localeCompare(b)))
    for (const address of addresses) byAddress.set(address, [...(byAddress.get(address) ?? []), name]);
  for (const [address, names] of byAddress) lines.push(`${address} ${names.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/** Appended: a restarted process's output follows the last one's. */
const openLog = (file: string): number => openSync(file, "a");

/**
 * Removes a tree the sandbox wrote, as an unprivileged user can: overlayfs leaves work folders
 * without permissions (d---------), so each folder is opened up first.
 */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const open = (p: string) => {
    try {
      if (!statSync(p).isDirectory()) return;
      chmodSync(p, 0o700);
      for (const entry of readdirSync(p)) open(path.join(p, entry));
    } catch {
      // Gone already, or a mount the kernel still holds: rmSync says which.
    }
  };
  open(dir);
  rmSync(dir, { recursive: true, force: true });
}
