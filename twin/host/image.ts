/**
 * The twin's machine image: what a host finds besides this machine's /usr and /etc, as overlay
 * layers between the host's own files and the machine's (host-root.ts), the way an AMI or a
 * container image would have them.
 *
 * - The twin's own layer (per twin, `<dir>/image`): the stand-ins (one Python client, named as the
 *   tools it stands in for, in /usr/local/sbin: first on every standard PATH, systemd's included).
 * - The base layer, every host's (the sandbox adds it, `<sandbox>/base`): account files of the
 *   image's own (passwd, group, subuid, subgid copied from this machine; shadow and gshadow with
 *   every password locked, so no hash of this machine's reaches a host; owned by the twin's user,
 *   so `useradd` can change them in a host even without root on this machine); not run by root,
 *   also the folders hosts write in (WRITTEN).
 * - Packages unpacked from Debian's archive (by the caller, into .cache/), made into layers once:
 *   xfsprogs (its binaries and the libraries a fresh Debian lacks, kept in /usr/lib/twin/xfsprogs
 *   behind wrappers, so no library of this machine is shadowed); cloud-init (its Python modules,
 *   program, units and configuration, merged into /usr as Debian's merged-/usr does, with its
 *   services enabled into cloud-init.target as the package's postinst enables them).
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  type Dirent,
} from "node:fs";
import path from "node:path";
import type { ImageLayers } from "./host-root";

/** The tools the stand-in client answers for (host-calls.ts dispatches them). */
export const STAND_INS = ["systemctl", "journalctl", "lsblk", "mount", "xfs_growfs", "mdadm", "apt-get"] as const;
export type StandIn = (typeof STAND_INS)[number];

/** How the package layers are made: raise it whenever xfsprogsLayer or cloudInitLayer changes. */
const LAYER_FORMAT = 1;

/** xfsprogs' programs the data-disk script and an operator run, each behind a wrapper. */
const XFS_PROGRAMS = ["mkfs.xfs", "xfs_db", "xfs_repair", "fsck.xfs", "xfs_admin"] as const;
/** Where xfsprogs lives in a host. */
const XFS_HOME = "/usr/lib/twin/xfsprogs";

/**
 * The stand-ins' one client: hands its command line to the twin over the host's call socket and
 * answers with what the twin answers (output, exit status), or runs the real tool when the twin
 * says so. Python's standard library only (python3 -S): every Debian host has it.
 */
export const STAND_IN_CLIENT = `#!/usr/bin/python3 -S
# A stand-in of the zester-infra twin (docs/twin.md): the twin answers for the tool named argv[0].
import json, os, socket, sys

tool = os.path.basename(sys.argv[0])
try:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect("/run/twin/twin.sock")
except OSError as error:
    sys.stderr.write(f"{tool}: the twin does not answer on /run/twin/twin.sock ({error.strerror})\\n")
    sys.exit(1)
conn.sendall((json.dumps({"tool": tool, "args": sys.argv[1:], "cwd": os.getcwd()}) + "\\n").encode())
reply = b""
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    reply += chunk
answer = json.loads(reply)
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.stdout.flush()
sys.stderr.flush()
if answer.get("exec"):
    os.execv(answer["exec"][0], answer["exec"])
sys.exit(answer.get("status", 1))
`;

export interface ImagePackages {
  /** Debian's xfsprogs and its libraries, unpacked (`sbin/mkfs.xfs`, `usr/sbin/xfs_db`, …). */
  xfsprogs?: string;
  /** Debian's cloud-init and its Python modules, unpacked. */
  cloudInit?: string;
}

/**
 * The folders a host writes in that come from this machine. When the sandbox maps only its
 * runner's uid (not run by root), this machine's files belong to an id the host cannot map, and
 * overlayfs cannot copy a folder up for the host to write in it; the twin's layer then holds an
 * empty copy of each folder (same mode, the runner's), which the host sees, and writes in, as root's.
 */
const WRITTEN = ["/etc", "/var", "/usr/local", "/opt", "/srv"] as const;
const IMAGE_ONLY_FOLDERS = ["/etc/systemd/system", "/usr/lib/systemd/system"];
/** Files hosts change in place (useradd): copies of the twin's own. */
const ACCOUNT_FILES = ["passwd", "group", "subuid", "subgid"] as const;

/** The twin's own layer under `dir`: the stand-ins. Returns its root. */
export function writeTwinLayer(dir: string): string {
  const sbin = path.join(dir, "usr", "local", "sbin");
  mkdirSync(sbin, { recursive: true });
  const client = path.join(sbin, "twin-stand-in");
  writeFileSync(client, STAND_IN_CLIENT, { mode: 0o755 });
  for (const tool of STAND_INS) {
    rmSync(path.join(sbin, tool), { force: true });
    symlinkSync("twin-stand-in", path.join(sbin, tool));
  }
  return dir;
}

/**
 * Every host's bottom layer, just above this machine's folders (the sandbox adds it): account
 * files of the image's own, and, when the sandbox maps only its runner's uid (`ownFolders`), the
 * folders hosts write in (WRITTEN). Returns its root.
 */
export function writeBaseLayer(dir: string, ownFolders: boolean): string {
  if (ownFolders) for (const top of WRITTEN) copyFolders(top, dir);
  const etc = path.join(dir, "etc");
  mkdirSync(etc, { recursive: true });
  for (const name of ACCOUNT_FILES)
    if (existsSync(`/etc/${name}`)) writeFileSync(path.join(etc, name), readFileSync(`/etc/${name}`));
  const passwd = readFileSync("/etc/passwd", "utf8");
  const group = readFileSync("/etc/group", "utf8");
  const names = (text: string) =>
    text
      .split("\n")
      .filter((l) => l.includes(":"))
      .map((l) => l.split(":")[0] ?? "");
  writeFileSync(
    path.join(etc, "shadow"),
    names(passwd)
      .map((n) => `${n}:*:19000:0:99999:7:::\n`)
      .join(""),
    {
      mode: 0o640,
    },
  );
  writeFileSync(
    path.join(etc, "gshadow"),
    names(group)
      .map((n) => `${n}:!::\n`)
      .join(""),
    { mode: 0o640 },
  );
  return dir;
}

/** Every folder under `top` (this machine's), made empty under `layer` with its mode; unreadable ones skipped. */
function copyFolders(top: string, layer: string): void {
  const walk = (folder: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    // The unit folders are the image's own (host-root.ts): none of this machine's reach a host.
    if (IMAGE_ONLY_FOLDERS.includes(folder)) return;
    const copy = path.join(layer, folder);
    mkdirSync(copy, { recursive: true });
    chmodSync(copy, statSync(folder).mode & 0o7777);
    for (const entry of entries) if (entry.isDirectory()) walk(path.join(folder, entry.name));
  };
  walk(top);
}

/** The layers a host gets: the twin's own on top, then each package's, then this machine's. */
export function imageLayers(twinLayer: string, packages: ImagePackages): ImageLayers {
  const layers = [twinLayer];
  if (packages.xfsprogs !== undefined) layers.push(packageLayer(packages.xfsprogs, xfsprogsLayer));
  if (packages.cloudInit !== undefined) layers.push(packageLayer(packages.cloudInit, cloudInitLayer));
  const of = (folder: string) => layers.map((l) => path.join(l, folder)).filter(existsSync);
  return { usr: of("usr"), etc: of("etc"), var: of("var"), opt: of("opt"), srv: of("srv") };
}

/**
 * A package tree made into a layer once, beside it (`<tree>.layer`), by `make` into a folder of
 * its own then renamed: two twins starting at once never see half a layer; the layer is made
 * anew when the packages or LAYER_FORMAT change.
 */
function packageLayer(tree: string, make: (tree: string, layer: string) => void): string {
  const layer = `${tree}.layer`;
  const marker = path.join(layer, ".made");
  // The packages and the way the layer is made (LAYER_FORMAT): either changing makes it anew.
  const packages = existsSync(path.join(tree, ".packages")) ? readFileSync(path.join(tree, ".packages"), "utf8") : tree;
  const stamp = createHash("sha256")
    .update(packages)
    .update(`${make.name} ${String(LAYER_FORMAT)}`)
    .digest("hex");
  if (existsSync(marker) && readFileSync(marker, "utf8") === stamp) return layer;
  const work = `${layer}.${String(process.pid)}.tmp`;
  rmSync(work, { recursive: true, force: true });
  make(tree, work);
  writeFileSync(path.join(work, ".made"), stamp);
  rmSync(layer, { recursive: true, force: true });
  renameSync(work, layer);
  return layer;
}

function xfsprogsLayer(tree: string, layer: string): void {
  const home = path.join(layer, XFS_HOME.slice(1));
  mkdirSync(path.join(home, "sbin"), { recursive: true });
  cpSync(path.join(tree, "usr", "lib", "x86_64-linux-gnu"), path.join(home, "lib"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const wrappers = path.join(layer, "usr", "sbin");
  mkdirSync(wrappers, { recursive: true });
  for (const program of XFS_PROGRAMS) {
    const found = ["sbin", "usr/sbin"].map((d) => path.join(tree, d, program)).find((p) => existsSync(p));
    if (found === undefined) throw new Error(`the xfsprogs tree ${tree} has no ${program}`);
    cpSync(found, path.join(home, "sbin", program));
    writeFileSync(
      path.join(wrappers, program),
      `#!/bin/sh\n# Debian's ${program} (xfsprogs), unpacked by the twin\nexport PATH=${XFS_HOME}/sbin:$PATH LD_LIBRARY_PATH=${XFS_HOME}/lib\nexec ${XFS_HOME}/sbin/${program} "$@"\n`,
      { mode: 0o755 },
    );
  }
}

/** cloud-init's units, which its package enables into cloud-init.target. */
const CLOUD_INIT_UNITS = [
  "cloud-init-local.service",
  "cloud-init.service",
  "cloud-config.service",
  "cloud-final.service",
];

function cloudInitLayer(tree: string, layer: string): void {
  cpSync(path.join(tree, "usr"), path.join(layer, "usr"), { recursive: true, verbatimSymlinks: true });
  // Merged /usr: the package's /lib is the image's /usr/lib.
  if (existsSync(path.join(tree, "lib")))
    cpSync(path.join(tree, "lib"), path.join(layer, "usr", "lib"), { recursive: true, verbatimSymlinks: true });
  cpSync(path.join(tree, "etc"), path.join(layer, "etc"), { recursive: true, verbatimSymlinks: true });
  const wants = path.join(layer, "etc", "systemd", "system", "cloud-init.target.wants");
  mkdirSync(wants, { recursive: true });
  for (const unit of CLOUD_INIT_UNITS) symlinkSync(`/usr/lib/systemd/system/${unit}`, path.join(wants, unit));
  // The package's systemd generator is replaced by the twin's boot hook (cloud-init.ts).
  rmSync(path.join(layer, "usr", "lib", "systemd", "system-generators"), { recursive: true, force: true });
}
