/**
 * Block devices of the volume's size. A volume is a sparse image file (`<dir>/<id>.img`) exactly
 * as large as the volume; attached to a host it is linked into the host's `/run/twin/devices`
 * and appears as `/dev/<name>`. What a host runs on it is real where an unprivileged user
 * namespace allows: Debian's mkfs.xfs, xfs_db, xfs_repair and blkid work on the image itself.
 * What the kernel does not let a user namespace do is stood in for (docs/twin.md):
 *
 * - `lsblk` (lsblk.ts) lists the attached images as disks with their model and serial (and the
 *   host's root disk, which the provider names, with its partition);
 * - `mount DEVICE DIR` of an image holding XFS mounts a tmpfs of the file system's size, read
 *   from its superblock (`dblocks × blocksize`, by xfs_db), kept in the sandbox for the volume's
 *   life and bound into the host: a volume grown without `xfs_growfs` still shows the old size.
 *   The files live in that tmpfs, not in the image (an XFS image cannot be written without the
 *   kernel's XFS driver); the image keeps the file system's metadata as mkfs.xfs made it;
 * - `xfs_growfs` (which needs the kernel: "the filesystem must be mounted to be grown", and no
 *   xfsprogs tool grows an unmounted image) makes the image's file system anew at the device's
 *   size with the same UUID and label (`mkfs.xfs -m uuid=`), and resizes the tmpfs: the files
 *   stay, `df` shows the new size.
 *
 * A persistent volume (EBS) keeps its files across its host's stop and start; an ephemeral one
 * (instance store) is blank again after a stop (zeros: no file system), but not after a reboot.
 */
import {
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  closeSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { ToolError, type Call, type Reply } from "./host-calls";
import { lsblk, type BlockDevice } from "./lsblk";
import { mustRun, runCommand } from "./namespaces";
import type { Sandbox } from "./sandbox";
import type { UnpackedTool } from "./tools";

export interface VolumeSpec {
  /** The provider's id (`vol-0abc…`), which names the image. */
  id: string;
  sizeBytes: number;
  /** lsblk's MODEL (`Amazon Elastic Block Store`, `Amazon EC2 NVMe Instance Storage`). */
  model: string;
  /** lsblk's SERIAL (EBS: the volume id without its dash). @default none */
  serial?: string;
  /** persistent: files kept across a stop (EBS); ephemeral: blank after a stop (instance store). */
  lifetime: "persistent" | "ephemeral";
}

/** The host's root disk, as lsblk shows it (its file system is the host's own root). */
export interface RootDisk {
  name: string;
  partition: string;
  sizeBytes: number;
  model: string;
  serial?: string;
}

export interface VolumeInfo extends VolumeSpec {
  image: string;
  attached?: { host: string; device: string; aliases?: string[] };
}

/** What an image's file system says of itself. */
export interface Superblock {
  uuid: string;
  blockSize: number;
  dataBlocks: number;
  label: string;
}

/** Debian's xfsprogs tree (its mkfs.xfs and xfs_db, which the twin itself runs on an image). */
export interface XfsTools {
  mkfs: UnpackedTool;
  db: UnpackedTool;
}

interface Volume extends VolumeInfo {
  /** The tmpfs holding its files in the sandbox, once mounted, and for which file system. */
  backing?: { uuid: string; sizeBytes: number; source: string };
  /** Counts the times it was blanked: an array remembers its members' counts (mdadm --assemble). */
  blanks: number;
  /** A RAID array's members and their blank counts when it was made. */
  array?: { members: string[]; blanks: number[] };
}

const VFS_FLAGS = new Set([
  "ro",
  "rw",
  "noatime",
  "relatime",
  "strictatime",
  "nodiratime",
  "nosuid",
  "nodev",
  "noexec",
]);
/** XFS's own mount options: accepted, and without effect on the tmpfs (said in the reply). */
const XFS_OPTIONS = new Set([
  "defaults",
  "nofail",
  "discard",
  "nodiscard",
  "inode64",
  "largeio",
  "swalloc",
  "noquota",
  "attr2",
]);
const NAME = /^[a-z][a-z0-9]{0,31}$/;
/** Where a host sees its attached devices' images. */
const HOST_DEVICES = "/run/twin/devices";

const sh = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`;

export class Volumes {
  private readonly volumes = new Map<string, Volume>();
  private readonly roots = new Map<string, RootDisk>();
  private readonly minors = new Map<string, number>();

  constructor(
    private readonly sandbox: Sandbox,
    /** Where the images and their tmpfs mount points live. */
    private readonly dir: string,
    private readonly xfs: XfsTools,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** A new volume: a sparse image of its size, holding zeros (no file system). */
  create(spec: VolumeSpec): VolumeInfo {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(spec.id))
      throw new Error(`volume id "${spec.id}": letters, digits, "_", "." and "-" only`);
    if (this.volumes.has(spec.id)) throw new Error(`the twin has a volume ${spec.id} already`);
    if (!Number.isSafeInteger(spec.sizeBytes) || spec.sizeBytes < 1)
      throw new Error(`volume ${spec.id}: sizeBytes must be a positive whole number; got ${String(spec.sizeBytes)}`);
    const image = path.join(this.dir, `${spec.id}.img`);
    closeSync(openSync(image, "w"));
    truncateSync(image, spec.sizeBytes);
    const volume: Volume = { ...spec, image, blanks: 0 };
    this.volumes.set(spec.id, volume);
    return this.info(volume);
  }

  get(id: string): VolumeInfo {
    return this.info(this.volume(id));
  }

  list(): VolumeInfo[] {
    return [...this.volumes.values()].map((v) => this.info(v));
  }

  private info(volume: Volume): VolumeInfo {
    const info: Partial<Volume> & VolumeInfo = structuredClone(volume);
    delete info.backing;
    delete info.blanks;
    delete info.array;
    return info;
  }

  private volume(id: string): Volume {
    const volume = this.volumes.get(id);
    if (volume === undefined)
      throw new Error(`no volume ${id} in the twin; it has ${[...this.volumes.keys()].join(", ") || "none"}`);
    return volume;
  }

  /** The host's root disk for lsblk (the provider's names: `nvme0n1`, `nvme0n1p1`). */
  setRootDisk(host: string, disk: RootDisk): void {
    this.roots.set(host, disk);
  }

  /** Grows the device (EBS ModifyVolume): the file system on it keeps its size until grown. */
  resize(id: string, sizeBytes: number): void {
    const volume = this.volume(id);
    if (sizeBytes < volume.sizeBytes)
      throw new Error(
        `volume ${id}: ${String(sizeBytes)} bytes is smaller than its ${String(volume.sizeBytes)}; a volume only grows`,
      );
    truncateSync(volume.image, sizeBytes);
    volume.sizeBytes = sizeBytes;
  }

  /** Attaches a volume to a host as `/dev/<device>`; at once in a running host (hot plug). */
  async attach(id: string, host: string, device: string, aliases: string[] = []): Promise<void> {
    const volume = this.volume(id);
    if (!NAME.test(device)) throw new Error(`device name "${device}": a kernel name such as nvme1n1`);
    for (const alias of aliases)
      if (!/^[a-z][a-z0-9-]*\/[a-z0-9._-]+$/.test(alias))
        throw new Error(`device alias "${alias}": a /dev path such as md/zester-data`);
    if (volume.attached !== undefined)
      throw new Error(`volume ${id} is attached to ${volume.attached.host} as ${volume.attached.device} already`);
    const taken = [...this.volumes.values()].find((v) => v.attached?.host === host && v.attached.device === device);
    if (taken !== undefined || this.roots.get(host)?.name === device)
      throw new Error(`${host} has a device ${device} already`);
    const link = this.deviceLink(host, device);
    mkdirSync(path.dirname(link), { recursive: true });
    linkSync(volume.image, link);
    volume.attached = { host, device, ...(aliases.length === 0 ? {} : { aliases }) };
    if (this.sandbox.isRunning(host)) await this.relink(host);
  }

  /** Detaches a volume; a mount of it in the host is taken away (the device is gone). */
  async detach(id: string): Promise<void> {
    const volume = this.volume(id);
    const attached = volume.attached;
    if (attached === undefined) return;
    if (this.sandbox.isRunning(attached.host)) {
      for (const target of await this.mountsOf(attached.host, attached.device))
        await this.sandbox.run(attached.host, ["/usr/bin/umount", "-l", target]);
    }
    await this.unexpose(volume);
    unlinkSync(this.deviceLink(attached.host, attached.device));
    delete volume.attached;
    if (this.sandbox.isRunning(attached.host)) await this.relink(attached.host);
  }

  /** Deletes a detached volume and its files. */
  async delete(id: string): Promise<void> {
    const volume = this.volume(id);
    if (volume.attached !== undefined)
      throw new Error(`volume ${id} is attached to ${volume.attached.host}: detach it first (EBS: VolumeInUse)`);
    await this.dropBacking(volume);
    rmSync(volume.image, { force: true });
    this.volumes.delete(id);
  }

  /** What a host's stop does to its disks: ephemeral ones lose everything (reboots keep them). */
  async hostStopped(host: string): Promise<void> {
    for (const volume of [...this.volumes.values()])
      if (volume.attached?.host === host && volume.lifetime === "ephemeral") {
        await this.dropBacking(volume);
        if (volume.array !== undefined) {
          // An array of blank disks is gone with them.
          await this.detach(volume.id);
          await this.delete(volume.id);
          continue;
        }
        truncateSync(volume.image, 0);
        truncateSync(volume.image, volume.sizeBytes);
        volume.blanks += 1;
      }
  }

  private deviceLink(host: string, device: string): string {
    return path.join(this.sandbox.runtimePaths(host).devices, device);
  }

  /** Makes `/dev/<name>` in a running host point at each attached device, and nothing else. */
  async relink(host: string): Promise<void> {
    const devices = [...this.volumes.values()]
      .filter((v) => v.attached?.host === host)
      .map((v) => v.attached?.device ?? "");
    const aliases = [...this.volumes.values()]
      .filter((v) => v.attached?.host === host)
      .flatMap((v) => (v.attached?.aliases ?? []).map((alias) => [alias, v.attached?.device ?? ""] as const));
    const script = [
      "set -eu",
      'for link in /dev/* /dev/md/*; do case "$(readlink "$link" || true)" in /run/twin/devices/*|/dev/md*) rm -f "$link";; esac; done',
      ...devices.map((d) => `ln -s /run/twin/devices/${d} /dev/${d}`),
      ...aliases.map(([alias, d]) => `mkdir -p "$(dirname /dev/${alias})" && ln -s /dev/${d} /dev/${alias}`),
    ].join("\n");
    await mustRun(this.sandbox.commandOn(host, ["sh", "-c", script]));
  }

  /** The superblock of a volume's image, or undefined when it holds no XFS file system. */
  async superblock(id: string): Promise<Superblock | undefined> {
    const volume = this.volume(id);
    const type = await runCommand(["blkid", "-p", "-o", "value", "-s", "TYPE", volume.image]);
    if (type.stdout.trim() !== "xfs") return undefined;
    const db = this.xfs.db;
    const r = await runCommand([
      "env",
      `LD_LIBRARY_PATH=${db.libraryPath}`,
      db.bin,
      "-r",
      "-c",
      "sb 0",
      "-c",
      "p uuid blocksize dblocks",
      "-c",
      "label",
      volume.image,
    ]);
    if (r.status !== 0) throw new Error(`xfs_db on ${volume.image} failed: ${r.stderr.trim()}`);
    const field = (name: string) => new RegExp(`^${name} = (.*)$`, "m").exec(r.stdout)?.[1]?.trim() ?? "";
    return {
      uuid: field("uuid"),
      blockSize: Number(field("blocksize")),
      dataBlocks: Number(field("dblocks")),
      label: field("label").replace(/^"(.*)"$/, "$1"),
    };
  }

  /** A host's block devices as lsblk shows them. */
  async blockDevices(host: string): Promise<BlockDevice[]> {
    const mountinfo = this.sandbox.isRunning(host) ? await this.sandbox.readFile(host, "/proc/self/mountinfo") : "";
    const devices: BlockDevice[] = [];
    const root = this.roots.get(host);
    if (root !== undefined)
      devices.push({
        name: root.name,
        type: "disk",
        sizeBytes: root.sizeBytes,
        majMin: "259:0",
        model: root.model,
        ...(root.serial === undefined ? {} : { serial: root.serial }),
        mountpoints: [],
        children: [
          { name: root.partition, type: "part", sizeBytes: root.sizeBytes, majMin: "259:1", mountpoints: ["/"] },
        ],
      });
    for (const volume of this.volumes.values()) {
      if (volume.attached?.host !== host) continue;
      const sb = await this.superblock(volume.id);
      devices.push({
        name: volume.attached.device,
        type: volume.array === undefined ? "disk" : "raid0",
        sizeBytes: statSync(volume.image).size,
        majMin: `259:${String(2 + this.minorOf(volume.id))}`,
        model: volume.model,
        ...(volume.serial === undefined ? {} : { serial: volume.serial }),
        ...(sb === undefined ? {} : { fstype: "xfs", uuid: sb.uuid }),
        mountpoints: mountTargets(mountinfo, volume.attached.device),
      });
    }
    return devices.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A device's minor number, stable for the volume's life in the twin. */
  private minorOf(id: string): number {
    let minor = this.minors.get(id);
    if (minor === undefined) {
      minor = this.minors.size;
      this.minors.set(id, minor);
    }
    return minor;
  }

  /** The `lsblk` stand-in. */
  async lsblk(host: string, call: Call): Promise<Reply> {
    return lsblk(await this.blockDevices(host), call.args);
  }

  /** Where a device is mounted in a running host. */
  private async mountsOf(host: string, device: string): Promise<string[]> {
    return mountTargets(await this.sandbox.readFile(host, "/proc/self/mountinfo"), device);
  }

  /** The attached volume a host calls `source` (`/dev/nvme1n1`, or a link to it), if it is one of the twin's. */
  private async volumeAt(host: string, source: string): Promise<Volume | undefined> {
    if (!source.startsWith("/dev/")) return undefined;
    const real = (await this.sandbox.run(host, ["readlink", "-f", "--", source])).stdout.trim();
    const name = real.startsWith(`${HOST_DEVICES}/`) ? real.slice(HOST_DEVICES.length + 1) : source.slice(5);
    return [...this.volumes.values()].find((v) => v.attached?.host === host && v.attached.device === name);
  }

  /**
   * The `mount` stand-in: `mount [-t xfs] [-o OPTIONS] DEVICE DIR` of one of the twin's devices
   * mounts its file system (above); anything else runs the real mount.
   */
  async mount(host: string, call: Call): Promise<Reply> {
    const parsed = parseMountArgs(call.args);
    const volume = parsed.positionals.length === 2 ? await this.volumeAt(host, parsed.positionals[0] ?? "") : undefined;
    if (volume === undefined || volume.attached === undefined) return { exec: ["/usr/bin/mount", ...call.args] };
    const device = `/dev/${volume.attached.device}`;
    const target = path.posix.resolve(call.cwd, parsed.positionals[1] ?? "");
    const sb = await this.superblock(volume.id);
    if (sb === undefined || (parsed.type !== undefined && parsed.type !== "xfs" && parsed.type !== "auto"))
      throw new ToolError(
        `mount: ${target}: wrong fs type, bad option, bad superblock on ${device}, missing codepage or helper program, or other error.`,
        32,
      );
    const unknown = parsed.options.filter((o) => !VFS_FLAGS.has(o) && !XFS_OPTIONS.has(o) && !o.startsWith("x-"));
    if (unknown.length > 0)
      throw new ToolError(
        `mount: ${target}: wrong fs type, bad option (the twin's XFS takes no ${unknown.join(",")}).`,
        32,
      );
    const exists = await this.sandbox.run(host, ["test", "-d", target]);
    if (exists.status !== 0) throw new ToolError(`mount: ${target}: mount point does not exist.`, 32);
    await this.expose(volume, device, sb);
    const flags = parsed.options.filter((o) => VFS_FLAGS.has(o) && o !== "rw");
    const script = [
      "set -eu",
      `/usr/bin/mount --bind ${sh(`/run/twin/mounts/${volume.id}`)} ${sh(target)}`,
      ...(flags.length === 0 ? [] : [`/usr/bin/mount -o remount,bind,${flags.join(",")} ${sh(target)}`]),
    ].join("\n");
    const r = await this.sandbox.run(host, ["sh", "-c", script]);
    if (r.status !== 0) throw new ToolError(`mount: ${target}: ${r.stderr.trim()}`, 32);
    return {};
  }

  /** The volume's tmpfs, sized from its superblock, made (or made anew for a new file system) and bound for its host. */
  private async expose(volume: Volume, device: string, sb: Superblock): Promise<void> {
    const size = sb.blockSize * sb.dataBlocks;
    const backing = this.backingPath(volume);
    if (volume.backing !== undefined && volume.backing.uuid !== sb.uuid) await this.dropBacking(volume);
    if (volume.backing !== undefined && volume.backing.source !== device) {
      // A tmpfs keeps the name it was mounted with: attached under another name, the files move
      // to one of the new name (findmnt and lsblk then say the device the host knows).
      const next = `${backing}.next`;
      mkdirSync(next, { recursive: true });
      await this.sandbox.inSandbox(
        [
          "set -eu",
          `mount -t tmpfs -o size=${String(volume.backing.sizeBytes)},mode=0755 ${sh(device)} ${sh(next)}`,
          `cp -a ${sh(`${backing}/.`)} ${sh(`${next}/`)}`,
          `umount -l ${sh(backing)}`,
          `mount --move ${sh(next)} ${sh(backing)}`,
        ].join("\n"),
      );
      rmSync(next, { recursive: true, force: true });
      volume.backing.source = device;
    }
    if (volume.backing === undefined) {
      await punchUnwritten(volume.image);
      mkdirSync(backing, { recursive: true });
      await this.sandbox.inSandbox(
        `set -eu\nmount -t tmpfs -o size=${String(size)},mode=0755 ${sh(device)} ${sh(backing)}`,
      );
      volume.backing = { uuid: sb.uuid, sizeBytes: size, source: device };
    }
    const host = volume.attached?.host;
    if (host === undefined) return;
    const view = path.join(this.sandbox.runtimePaths(host).mounts, volume.id);
    await this.sandbox.inSandbox(
      `set -eu\nmkdir -p ${sh(view)}\nif ! mountpoint -q ${sh(view)}; then mount --bind ${sh(backing)} ${sh(view)}; fi`,
    );
  }

  /** Takes the volume's tmpfs out of its host's /run/twin/mounts. */
  private async unexpose(volume: Volume): Promise<void> {
    const host = volume.attached?.host;
    if (host === undefined) return;
    const view = path.join(this.sandbox.runtimePaths(host).mounts, volume.id);
    await this.sandbox.inSandbox(
      `if mountpoint -q ${sh(view)}; then umount -l ${sh(view)}; fi; rmdir ${sh(view)} 2>/dev/null || true`,
    );
  }

  /** Drops the volume's files (its tmpfs). */
  private async dropBacking(volume: Volume): Promise<void> {
    await this.unexpose(volume);
    const backing = this.backingPath(volume);
    if (volume.backing !== undefined)
      await this.sandbox.inSandbox(`if mountpoint -q ${sh(backing)}; then umount -l ${sh(backing)}; fi`);
    delete volume.backing;
    rmSync(backing, { recursive: true, force: true });
  }

  private backingPath(volume: Volume): string {
    return path.join(this.dir, `${volume.id}.fs`);
  }

  /**
   * The `mdadm` stand-in, for the RAID0 of several instance-store disks (data-disk.ts):
   * `--create DEVICE --level=0 --raid-devices=N MEMBERS…` makes an array device (an image of
   * N × the smallest member, as md's RAID0 spans them) at /dev/md127 with DEVICE linked to it;
   * `--assemble DEVICE MEMBERS…` finds it again while its members are the disks it was made of
   * (a stop blanks instance-store disks, and their array is gone with them). No md superblock is
   * written on the members: blkid says nothing of them.
   */
  async mdadm(host: string, call: Call): Promise<Reply> {
    const request = parseMdadmArgs(call.args);
    const members: Volume[] = [];
    for (const m of request.members) {
      const volume = await this.volumeAt(host, m);
      if (volume === undefined) throw new ToolError(`mdadm: cannot open ${m}: No such file or directory`, 1);
      members.push(volume);
    }
    const arrays = [...this.volumes.values()].filter((v) => v.attached?.host === host && v.array !== undefined);
    const alias = request.device.replace(/^\/dev\//, "");
    if (request.mode === "assemble") {
      const found = arrays.find(
        (a) =>
          a.array?.members.length === members.length &&
          members.every((m) => {
            const i = a.array?.members.indexOf(m.id) ?? -1;
            return i >= 0 && a.array?.blanks[i] === m.blanks;
          }),
      );
      if (found === undefined)
        throw new ToolError(`mdadm: no recogniseable superblock on ${request.members[0] ?? ""}`, 1);
      return { stderr: `mdadm: ${request.device} has been started with ${String(members.length)} drives.\n` };
    }
    if (request.level !== "0")
      throw new ToolError(`mdadm: the twin makes RAID0 arrays only, not level ${request.level}`, 1);
    if (request.raidDevices !== members.length)
      throw new ToolError(
        `mdadm: ${String(members.length)} devices given, --raid-devices=${String(request.raidDevices)}`,
        2,
      );
    const taken = new Set([...this.volumes.values()].map((v) => v.attached?.device));
    let number = 127;
    while (taken.has(`md${String(number)}`)) number -= 1;
    const id = `md-${host}-${String(number)}`;
    this.create({
      id,
      sizeBytes: members.length * Math.min(...members.map((m) => m.sizeBytes)),
      model: "",
      lifetime: members.some((m) => m.lifetime === "ephemeral") ? "ephemeral" : "persistent",
    });
    this.volume(id).array = { members: members.map((m) => m.id), blanks: members.map((m) => m.blanks) };
    await this.attach(id, host, `md${String(number)}`, alias.startsWith("md/") ? [alias] : []);
    return { stderr: `mdadm: array ${request.device} started.\n` };
  }

  /** The `xfs_growfs` stand-in: `xfs_growfs [-n] [-d] [-D BLOCKS] MOUNTPOINT`. */
  async growfs(host: string, call: Call): Promise<Reply> {
    const { info, blocks, target } = parseGrowfsArgs(call.args, call.cwd);
    const mountinfo = (await this.sandbox.readFile(host, "/proc/self/mountinfo")).split("\n").map((l) => l.split(" "));
    const entry = mountinfo.find((f) => f[4] === target || f[f.indexOf("-") + 2] === target);
    const volume = entry === undefined ? undefined : await this.volumeAt(host, entry[entry.indexOf("-") + 2] ?? "");
    if (volume === undefined) throw new ToolError(`xfs_growfs: ${target} is not a mounted XFS filesystem`, 1);
    const before = await this.superblock(volume.id);
    if (before === undefined) throw new ToolError(`xfs_growfs: ${target} is not a mounted XFS filesystem`, 1);
    const geometry = await this.geometry(volume);
    const deviceBlocks = Math.floor(statSync(volume.image).size / before.blockSize);
    const wanted = blocks ?? deviceBlocks;
    if (info) return { stdout: geometry };
    if (wanted > deviceBlocks)
      throw new ToolError(`data size ${String(wanted)} too large, maximum is ${String(deviceBlocks)}`, 1);
    if (wanted < before.dataBlocks)
      throw new ToolError("xfs_growfs: the twin grows file systems; it does not shrink them", 1);
    if (wanted === before.dataBlocks) return { stdout: `${geometry}data size unchanged, skipping\n` };
    const mkfs = this.xfs.mkfs;
    const label = before.label === "" ? [] : ["-L", before.label];
    await mustRun([
      "env",
      `LD_LIBRARY_PATH=${mkfs.libraryPath}`,
      mkfs.bin,
      "-f",
      "-q",
      "-m",
      `uuid=${before.uuid}`,
      ...label,
      "-d",
      `size=${String(wanted * before.blockSize)}`,
      volume.image,
    ]);
    await punchUnwritten(volume.image);
    const size = wanted * before.blockSize;
    // The full form: util-linux refuses `-o remount` alone from a user namespace's root.
    const source = volume.backing?.source ?? `/dev/${volume.attached?.device ?? volume.id}`;
    await this.sandbox.inSandbox(
      `set -eu\nmount -t tmpfs -o remount,size=${String(size)} ${sh(source)} ${sh(this.backingPath(volume))}`,
    );
    volume.backing = { uuid: before.uuid, sizeBytes: size, source };
    return { stdout: `${geometry}data blocks changed from ${String(before.dataBlocks)} to ${String(wanted)}\n` };
  }

  /** xfs_info's geometry of the image, as `xfs_db -c info` prints it. */
  private async geometry(volume: Volume): Promise<string> {
    const db = this.xfs.db;
    const r = await runCommand(["env", `LD_LIBRARY_PATH=${db.libraryPath}`, db.bin, "-r", "-c", "info", volume.image]);
    return r.stdout;
  }

  /** Removes every image and mount (the twin is going away). */
  async close(): Promise<void> {
    for (const volume of this.volumes.values()) await this.dropBacking(volume);
    this.volumes.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether a volume's files are held (its tmpfs is mounted), for tests and status. */
  hasFiles(id: string): boolean {
    return this.volume(id).backing !== undefined && existsSync(this.backingPath(this.volume(id)));
  }
}

/** Where /proc/self/mountinfo says `/dev/<device>` is mounted (the source is the second field after " - "). */
function mountTargets(mountinfo: string, device: string): string[] {
  return mountinfo
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[f.indexOf("-") + 2] === `/dev/${device}`)
    .map((f) => f[4] ?? "")
    .filter((target) => !target.startsWith("/run/twin/"));
}

interface MdadmRequest {
  mode: "create" | "assemble";
  device: string;
  level?: string;
  raidDevices?: number;
  members: string[];
}

/** mdadm's words for create and assemble; anything else is refused, naming it. */
function parseMdadmArgs(args: readonly string[]): MdadmRequest {
  let mode: MdadmRequest["mode"] | undefined;
  let level: string | undefined;
  let raidDevices: number | undefined;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const [flag = "", inline] = arg.split("=", 2);
    const value = () => inline ?? args[++i] ?? "";
    if (flag === "--create" || flag === "-C") mode = "create";
    else if (flag === "--assemble" || flag === "-A") mode = "assemble";
    else if (flag === "--level" || flag === "-l") level = value().replace(/^raid/, "");
    else if (flag === "--raid-devices" || flag === "-n") raidDevices = Number(value());
    else if (flag === "--run" || flag === "-R" || flag === "--force") continue;
    else if (arg.startsWith("-"))
      throw new ToolError(
        `mdadm: the twin's mdadm creates and assembles RAID0 arrays; it does not carry out ${arg}`,
        1,
      );
    else words.push(arg);
  }
  const [device, ...members] = words;
  if (mode === undefined || device === undefined || members.length === 0)
    throw new ToolError("mdadm: the twin's mdadm takes --create or --assemble, the array device, and its members", 1);
  return {
    mode,
    device,
    members,
    ...(level === undefined ? {} : { level }),
    ...(raidDevices === undefined ? {} : { raidDevices }),
  };
}

function parseMountArgs(args: readonly string[]): { type?: string; options: string[]; positionals: string[] } {
  let type: string | undefined;
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-t" || arg === "--types") type = args[++i];
    else if (arg.startsWith("-t") && arg.length > 2) type = arg.slice(2);
    else if (arg === "-o" || arg === "--options") options.push(...(args[++i] ?? "").split(",").filter(Boolean));
    else if (arg.startsWith("-o") && arg.length > 2) options.push(...arg.slice(2).split(",").filter(Boolean));
    else if (arg.startsWith("-")) positionals.push("--flag");
    else positionals.push(arg);
  }
  return { ...(type === undefined ? {} : { type }), options, positionals };
}

function parseGrowfsArgs(args: readonly string[], cwd: string): { info: boolean; blocks?: number; target: string } {
  let info = false;
  let blocks: number | undefined;
  let target: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "-n") info = true;
    else if (arg === "-d") continue;
    else if (arg === "-D") blocks = Number(args[++i]);
    else if (arg.startsWith("-"))
      throw new ToolError(`xfs_growfs: the twin's xfs_growfs grows the data section only (-d, -D, -n); not ${arg}`, 1);
    else target = arg;
  }
  if (target === undefined) throw new ToolError("Usage: xfs_growfs [-dn] [-D size] mountpoint", 1);
  if (blocks !== undefined && !Number.isSafeInteger(blocks))
    throw new ToolError("xfs_growfs: -D takes a number of blocks", 1);
  return { info, ...(blocks === undefined ? {} : { blocks }), target: path.posix.resolve(cwd, target) };
}

/**
 * mkfs.xfs zeroes the log with fallocate's ZERO_RANGE, which reserves real disk (2 GiB for a
 * 7.5 TB image); holes read as the same zeros and cost nothing. filefrag (e2fsprogs, on every
 * Debian) names the unwritten extents; without it the image stays as it is.
 */
async function punchUnwritten(image: string): Promise<void> {
  const r = await runCommand(["filefrag", "-v", "-b1", image]);
  if (r.status !== 0) return;
  for (const line of r.stdout.split("\n")) {
    if (!line.includes("unwritten")) continue;
    const m = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):/.exec(line);
    if (m === null) continue;
    const start = Number(m[1]);
    const length = Number(m[2]) - start + 1;
    await runCommand(["fallocate", "--punch-hole", "--offset", String(start), "--length", String(length), image]);
  }
}
