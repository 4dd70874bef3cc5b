/**
 * A host's root file system inside the sandbox, as shell scripts (pure: the paths in, the text
 * out). The root is a tmpfs skeleton whose /usr, /etc, /var, /opt and /srv are overlays of this
 * machine's (what the host writes stays in its own upper layer on disk, the machine's files are
 * never touched), /root and /home its own, and at each boot a fresh /run, /tmp, /dev, /proc and
 * /sys. The host then pivots into it: it never sees this machine's other files (the repository,
 * the tool cache), only what its user data, agent or operator puts there.
 *
 * Image layers (image.ts: the twin's stand-ins, account files, packages unpacked from Debian) lie
 * between the host's own layer and this machine's folder, as an AMI's files would. Each host also
 * gets `/run/twin` at every boot: its call socket (the stand-ins' way to the twin), its attached
 * devices, and the file systems the twin mounts for it (a shared mount of the sandbox's, seen by
 * the host as a slave, so a mount the twin makes later appears in the host at once).
 */
const OVERLAID = ["usr", "etc", "var", "opt", "srv"] as const;
const OWN = ["root", "home"] as const;
/**
 * Folders a host takes from its image layers only, never from this machine: the unit folders
 * (this machine's enabled services must not start in a host; an image has its own).
 */
const IMAGE_ONLY = [
  { dir: "etc", path: "systemd/system" },
  { dir: "usr", path: "lib/systemd/system" },
] as const;
/** Debian's merged /usr: these are links into it. */
const LINKS = { bin: "usr/bin", sbin: "usr/sbin", lib: "usr/lib", lib64: "usr/lib64" } as const;
/** Device nodes a host's programs need, bound from this machine's /dev (a user namespace cannot make them). */
const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"] as const;
import { HOST_PATH } from "./namespaces";

const quote = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`;

/** The overlaid folders' image layers, top first, each a folder holding that folder's files. */
export type ImageLayers = Partial<Record<(typeof OVERLAID)[number], readonly string[]>>;

export interface HostRootPaths {
  /** Where the root is mounted in the sandbox. */
  root: string;
  /** The host's own layers on disk: `<layers>/<dir>/{upper,work}`. */
  layers: string;
  /** What the host finds at /run/twin (host-runtime paths, outside the sandbox's view of the host). */
  runtime: HostRuntimePaths;
  /** Layers between the host's own and this machine's. @default none */
  image?: ImageLayers;
  /** The root file system's source, as `findmnt -no SOURCE /` shows it. @default twin-root */
  rootSource?: string;
}

/** `/run/twin` of a host, as folders and a socket on disk. */
export interface HostRuntimePaths {
  /** The host's call socket (stand-ins → twin), bound at /run/twin/twin.sock when it exists. */
  socket: string;
  /** Attached devices' images, at /run/twin/devices. */
  devices: string;
  /** A shared mount the twin mounts file systems under, at /run/twin/mounts. */
  mounts: string;
}

/** Where a host sees its runtime paths. */
export const HOST_RUNTIME = {
  socket: "/run/twin/twin.sock",
  devices: "/run/twin/devices",
  mounts: "/run/twin/mounts",
} as const;

/** The directories to make on disk before the root is mounted (outside the sandbox, as the caller). */
export function layerDirectories(paths: HostRootPaths): string[] {
  return [
    paths.root,
    paths.runtime.devices,
    paths.runtime.mounts,
    `${paths.layers}/empty`,
    ...[...OVERLAID, ...OWN, ...IMAGE_ONLY.map(imageOnlyName)].flatMap((dir) => [
      `${paths.layers}/${dir}/upper`,
      `${paths.layers}/${dir}/work`,
    ]),
  ];
}

/** Mounts the root in the sandbox's mount namespace; a no-op when it is mounted already (a restart). */
export function mountRootScript(paths: HostRootPaths): string {
  const root = quote(paths.root);
  const mounts = quote(paths.runtime.mounts);
  const lowers = (dir: (typeof OVERLAID)[number]) => [...(paths.image?.[dir] ?? []), `/${dir}`].join(":");
  const lines = [
    "set -eu",
    `if mountpoint -q ${root}; then exit 0; fi`,
    // Shared: what the twin mounts under it later propagates into the host's slave copy.
    `mount --bind ${mounts} ${mounts}`,
    `mount --make-shared ${mounts}`,
    `mount -t tmpfs -o mode=0755 ${quote(paths.rootSource ?? "twin-root")} ${root}`,
    `mkdir -p ${["run", "tmp", "proc", "sys", "dev", "mnt", "media", ...OVERLAID, ...OWN].map((d) => `${root}/${d}`).join(" ")}`,
    ...Object.entries(LINKS).map(([link, target]) => `ln -s ${target} ${root}/${link}`),
    ...OVERLAID.map(
      (dir) =>
        `mount -t overlay twin-${dir} -o lowerdir=${quote(lowers(dir))},upperdir=${quote(`${paths.layers}/${dir}/upper`)},workdir=${quote(`${paths.layers}/${dir}/work`)} ${root}/${dir}`,
    ),
    ...OWN.map((dir) => `mount --bind ${quote(`${paths.layers}/${dir}/upper`)} ${root}/${dir}`),
    ...IMAGE_ONLY.flatMap((own) => {
      const layers = (paths.image?.[own.dir] ?? []).map((l) => `${l}/${own.path}`);
      const at = `${root}/${own.dir}/${own.path}`;
      const name = imageOnlyName(own);
      return [
        `lower=''; for l in ${layers.map(quote).join(" ")}; do if [ -d "$l" ]; then lower="$lower$l:"; fi; done`,
        `mkdir -p ${at}`,
        `mount -t overlay twin-${name} -o "lowerdir=\${lower}${paths.layers}/empty,upperdir=${paths.layers}/${name}/upper,workdir=${paths.layers}/${name}/work" ${at}`,
      ];
    }),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Makes /proc/sys read-only but for /proc/sys/net: a kernel-wide setting (fs.file-max,
 * vm.swappiness) written from a twin would change this machine's, and the twin runs as root when
 * it can; the network's belong to the namespace.
 */
export function readOnlySysctls(proc: string): string[] {
  return [
    `mount --bind ${proc}/sys ${proc}/sys`,
    `mount -o remount,bind,ro ${proc}/sys`,
    `mount --bind ${proc}/sys/net ${proc}/sys/net`,
    `mount -o remount,bind,rw ${proc}/sys/net`,
  ];
}

const imageOnlyName = (own: (typeof IMAGE_ONLY)[number]): string => `${own.dir}-${own.path.replaceAll("/", "-")}`;

/** Unmounts the root and the twin's mounts for it (the host is gone for good). */
export function unmountRootScript(paths: HostRootPaths): string {
  const root = quote(paths.root);
  const mounts = quote(paths.runtime.mounts);
  return `if mountpoint -q ${root}; then umount -R ${root}; fi\nif mountpoint -q ${mounts}; then umount -R ${mounts}; fi\n`;
}

/**
 * Boots into the root as PID 1 of the host's own namespaces: its host name, a fresh /run, /tmp,
 * /dev, /proc and /sys, then `pivot_root` (the sandbox's mounts stay out of reach) and `init`.
 */
export function firmwareScript(paths: HostRootPaths, hostname: string, init: string): string {
  const root = quote(paths.root);
  const { socket, devices, mounts } = paths.runtime;
  const inRoot = (p: string) => `${root}${p}`;
  const lines = [
    "set -eu",
    `hostname ${quote(hostname)}`,
    `mount --rbind ${root} ${root}`,
    `mount -t tmpfs -o mode=0755 twin-run ${root}/run`,
    `mkdir -p ${inRoot(HOST_RUNTIME.devices)} ${inRoot(HOST_RUNTIME.mounts)}`,
    `mount --bind ${quote(devices)} ${inRoot(HOST_RUNTIME.devices)}`,
    `mount --rbind ${quote(mounts)} ${inRoot(HOST_RUNTIME.mounts)}`,
    `if [ -S ${quote(socket)} ]; then touch ${inRoot(HOST_RUNTIME.socket)}; mount --bind ${quote(socket)} ${inRoot(HOST_RUNTIME.socket)}; fi`,
    `mount -t tmpfs -o mode=1777 twin-tmp ${root}/tmp`,
    `mount -t tmpfs -o mode=0755 twin-dev ${root}/dev`,
    ...DEVICES.flatMap((d) => [`touch ${root}/dev/${d}`, `mount --bind /dev/${d} ${root}/dev/${d}`]),
    `mkdir -p ${root}/dev/pts ${root}/dev/shm ${root}/dev/mqueue`,
    `mount -t devpts -o newinstance,ptmxmode=0666 devpts ${root}/dev/pts`,
    `ln -s pts/ptmx ${root}/dev/ptmx`,
    `mount -t tmpfs -o mode=1777 twin-shm ${root}/dev/shm`,
    `ln -s /proc/self/fd ${root}/dev/fd`,
    ...["stdin", "stdout", "stderr"].map((s, i) => `ln -s /proc/self/fd/${String(i)} ${root}/dev/${s}`),
    `mount -t proc proc ${root}/proc`,
    // The kernel is this machine's: only the network's settings (the host's own namespace's) are the host's to change.
    ...readOnlySysctls(`${root}/proc`),
    // sysfs belongs to the network namespace: mountable in one's own; else this machine's, read-only.
    `mount -t sysfs sysfs ${root}/sys 2>/dev/null || mount --rbind -o ro /sys ${root}/sys`,
    `cd ${root}`,
    "mkdir -p .old",
    "pivot_root . .old",
    // The caller's PATH names its own machine's directories, gone from here on.
    `export PATH=${HOST_PATH}`,
    "umount -l /.old",
    "rmdir /.old",
    "cd /",
    `exec sh -c ${quote(init)}`,
  ];
  return `${lines.join("\n")}\n`;
}
