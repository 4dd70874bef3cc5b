/**
 * The twin's machine image: what a host finds besides this machine's /usr and /etc, as overlay
 * layers between the host's own files and the machine's (host-root.ts), the way an AMI or a
 * container image would have them.
 *
 * - The twin's own layer (per twin, `<dir>/image`): the stand-ins (one Python client, named as the
 *   tools it stands in for, in /usr/local/sbin: first on every standard PATH, systemd's included)
 *   and account files of the image's own (passwd and group copied from this machine; shadow and
 *   gshadow with every password locked, so no hash of this machine's reaches a host, and owned by
 *   the twin's user, so `useradd` can change them in a host even without root on this machine).
 * - Packages unpacked from Debian's archive (by the caller, into .cache/), made into layers once:
 *   xfsprogs (its binaries and the libraries a fresh Debian lacks, kept in /usr/lib/twin/xfsprogs
 *   behind wrappers, so no library of this machine is shadowed); cloud-init (its Python modules,
 *   program, units and configuration, merged into /usr as Debian's merged-/usr does, with its
 *   services enabled into cloud-init.target as the package's postinst enables them).
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ImageLayers } from "./host-root";

/** The tools the stand-in client answers for (host-calls.ts dispatches them). */
export const STAND_INS = ["systemctl", "journalctl", "lsblk", "mount", "xfs_growfs", "mdadm", "apt-get"] as const;
export type StandIn = (typeof STAND_INS)[number];

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

/** The twin's own layer under `dir` (stand-ins, account files); returns its root. */
export function writeTwinLayer(dir: string): string {
  const sbin = path.join(dir, "usr", "local", "sbin");
  const etc = path.join(dir, "etc");
  mkdirSync(sbin, { recursive: true });
  mkdirSync(etc, { recursive: true });
  const client = path.join(sbin, "twin-stand-in");
  writeFileSync(client, STAND_IN_CLIENT, { mode: 0o755 });
  for (const tool of STAND_INS) {
    rmSync(path.join(sbin, tool), { force: true });
    symlinkSync("twin-stand-in", path.join(sbin, tool));
  }
  const passwd = readFileSync("/etc/passwd", "utf8");
  const group = readFileSync("/etc/group", "utf8");
  writeFileSync(path.join(etc, "passwd"), passwd);
  writeFileSync(path.join(etc, "group"), group);
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
    { mode: 0o640 },
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

/** The layers a host gets: the twin's own on top, then each package's, then this machine's. */
export function imageLayers(twinLayer: string, packages: ImagePackages): ImageLayers {
  const layers = [twinLayer];
  if (packages.xfsprogs !== undefined) layers.push(packageLayer(packages.xfsprogs, xfsprogsLayer));
  if (packages.cloudInit !== undefined) layers.push(packageLayer(packages.cloudInit, cloudInitLayer));
  return {
    usr: layers.map((l) => path.join(l, "usr")).filter(existsSync),
    etc: layers.map((l) => path.join(l, "etc")).filter(existsSync),
  };
}

/**
 * A package tree made into a layer once, beside it (`<tree>.layer`), by `make` into a folder of
 * its own then renamed: two twins starting at once never see half a layer; the layer is made
 * anew when the packages or `make` change.
 */
function packageLayer(tree: string, make: (tree: string, layer: string) => void): string {
  const layer = `${tree}.layer`;
  const marker = path.join(layer, ".made");
  // The packages and the way the layer is made: either changing makes it anew.
  const packages = existsSync(path.join(tree, ".packages")) ? readFileSync(path.join(tree, ".packages"), "utf8") : tree;
  const stamp = createHash("sha256").update(packages).update(make.toString()).digest("hex");
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
