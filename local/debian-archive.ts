/**
 * Packages from Debian's archive, unpacked into a project-local cache, never installed:
 * `apt-get download` against a private sources list, lists and cache, then `dpkg -x`. The
 * machine's apt state is never touched, and the rest of its apt configuration (proxies among
 * it) stays in effect. The archive is the one the machine's apt sources name (or
 * `ZESTER_DEBIAN_MIRROR`): see apt-sources.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { machineDebianArchive, MIRROR_OVERRIDE, sourceListFor, type DebianArchive } from "./apt-sources";
import { repoRoot } from "./repo-root";

export const DEBIAN_SUITES = ["bookworm", "trixie", "sid"] as const;
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

/** `.cache/` in the repository: everything fetched lives under it. */
export const cacheDir = (): string => path.join(repoRoot(), ".cache");

function apt(root: string, archive: DebianArchive, suite: DebianSuite, args: string[], cwd: string): void {
  const options = [
    `Dir::Etc::sourcelist=${path.join(root, sourceListFor(archive, suite).name)}`,
    "Dir::Etc::sourceparts=-",
    `Dir::State::Lists=${path.join(root, "lists")}`,
    `Dir::Cache=${path.join(root, "cache")}`,
    "APT::Get::List-Cleanup=0",
    // Downloads land in a folder the unprivileged _apt user may not reach: stay quiet about it.
    "APT::Sandbox::User=root",
  ].flatMap((o) => ["-o", o]);
  const r = spawnSync("apt-get", [...options, "-qq", ...args], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.error !== undefined || r.status !== 0) {
    const why = (r.error?.message ?? r.stderr.trim()).replace(/\.+$/, "");
    throw new Error(
      `apt-get ${args.join(" ")} for Debian ${suite} from ${archive.uri} (${archive.origin}) failed: ${why}. ` +
        `To fetch from another Debian mirror, set ${MIRROR_OVERRIDE}`,
    );
  }
}

/**
 * Downloads Debian `suite`'s `packages` and unpacks them all into a new folder under `parent`
 * (on the same file system as the final place, so a rename moves it there at once). A private
 * work folder per call: two test runs fetching at the same time never share one.
 */
function downloadAndUnpack(packages: string[], suite: DebianSuite, parent: string): string {
  const work = path.join(parent, ".apt");
  mkdirSync(work, { recursive: true });
  const root = mkdtempSync(path.join(work, `${suite}-`));
  try {
    const archive = machineDebianArchive();
    for (const sub of ["lists/partial", "cache/archives/partial", "download"])
      mkdirSync(path.join(root, sub), { recursive: true });
    const list = sourceListFor(archive, suite);
    writeFileSync(path.join(root, list.name), list.text);
    const download = path.join(root, "download");
    // A mirror that cannot be reached is only a warning to a plain update; here it is the error.
    apt(root, archive, suite, ["update", "--error-on=any"], download);
    apt(root, archive, suite, ["download", ...packages], download);
    const debs = readdirSync(download).filter((f) => f.endsWith(".deb"));
    for (const pkg of packages)
      if (!debs.some((f) => f.startsWith(`${pkg}_`)))
        throw new Error(`apt-get download found no ${pkg} .deb for Debian ${suite} at ${archive.uri}`);
    const unpacked = mkdtempSync(path.join(parent, ".unpacked-"));
    for (const deb of debs) execFileSync("dpkg", ["-x", path.join(download, deb), unpacked]);
    return unpacked;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Debian `suite`'s package `pkg`'s binary `binary` (from usr/bin or usr/sbin), kept at
 * `dir/binary` unless it is there already. Returns the binary's path.
 */
export function fetchDebianBinary(pkg: string, binary: string, suite: DebianSuite, dir: string): string {
  const target = path.join(dir, binary);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true });
  const unpacked = downloadAndUnpack([pkg], suite, dir);
  try {
    // bookworm ships nats-server in /usr/sbin, later suites in /usr/bin.
    const inside = ["bin", "sbin"].map((d) => path.join(unpacked, "usr", d, binary)).find((p) => existsSync(p));
    if (inside === undefined)
      throw new Error(`the ${pkg} package of Debian ${suite} holds no usr/bin or usr/sbin/${binary}`);
    renameSync(inside, target);
  } finally {
    rmSync(unpacked, { recursive: true, force: true });
  }
  return target;
}

const MANIFEST = ".packages";

/**
 * Debian `suite`'s `packages` unpacked together into the folder `dir` (a root: `dir/usr/...`),
 * for a tool made of several packages (e.g. a Python program and its modules). `dir/.packages`
 * lists what it holds; a different list fetches it anew. Returns `dir`.
 */
export function fetchDebianTree(packages: string[], suite: DebianSuite, dir: string): string {
  const manifest = `${[...packages].sort().join("\n")}\n`;
  const marker = path.join(dir, MANIFEST);
  if (existsSync(marker) && readFileSync(marker, "utf8") === manifest) return dir;
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  const unpacked = downloadAndUnpack(packages, suite, parent);
  writeFileSync(path.join(unpacked, MANIFEST), manifest);
  // Move an older tree aside first: a rename onto a non-empty folder fails.
  const old = `${unpacked}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  try {
    renameSync(unpacked, dir);
  } catch (error) {
    // Another run put the same tree there in the meantime: keep theirs.
    if (!(existsSync(marker) && readFileSync(marker, "utf8") === manifest)) throw error;
    rmSync(unpacked, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return dir;
}

/** A tool from Debian `suite`'s package `pkg`, kept in `.cache/debian-tools/<suite>/`. */
export function fetchDebianTool(pkg: string, binary: string, suite: DebianSuite): string {
  return fetchDebianBinary(pkg, binary, suite, path.join(cacheDir(), "debian-tools", suite));
}
