/**
 * Finds a `nats-server` to run: an explicit path, one on PATH, or a build from Debian's archive
 * fetched into a project-local cache (`.cache/nats-server/<suite>/`). Debian's packages carry one
 * static binary, which runs on any of its suites; apt is pointed at a private sources list,
 * lists and cache so the machine's own apt state is never touched.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./repo-root";

export const DEBIAN_SUITES = ["bookworm", "trixie", "sid"] as const;
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

export interface NatsServerBinary {
  path: string;
  /** e.g. "2.9.10" */
  version: string;
  /** Where it came from, for the user: "PATH", "--nats-server", "Debian sid (cached)". */
  origin: string;
}

export const defaultCache = (): string => path.join(repoRoot(), ".cache", "nats-server");

/** `nats-server --version` prints "nats-server: v2.10.27". */
export function versionOf(binary: string): string {
  const out = execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const match = /v?(\d+\.\d+\.\d+)/.exec(out);
  if (match?.[1] === undefined) throw new Error(`${binary} --version printed no version: ${out.trim()}`);
  return match[1];
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function apt(root: string, args: string[], cwd: string): void {
  const options = [
    `Dir::Etc::sourcelist=${path.join(root, "sources.list")}`,
    "Dir::Etc::sourceparts=-",
    `Dir::State::Lists=${path.join(root, "lists")}`,
    `Dir::Cache=${path.join(root, "cache")}`,
    "APT::Get::List-Cleanup=0",
    // Downloads land in a folder the unprivileged _apt user may not reach: stay quiet about it.
    "APT::Sandbox::User=root",
  ].flatMap((o) => ["-o", o]);
  execFileSync("apt-get", [...options, "-qq", ...args], { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 300_000 });
}

/**
 * Downloads Debian `suite`'s package `pkg` and keeps its binary `binary` (from usr/bin or
 * usr/sbin) at `dir/binary`, unless it is there already. Returns the binary's path.
 */
export function fetchDebianBinary(pkg: string, binary: string, suite: DebianSuite, dir: string): string {
  const target = path.join(dir, binary);
  if (existsSync(target)) return target;
  const root = path.join(path.dirname(dir), ".apt", `${suite}-${pkg}`);
  for (const sub of ["lists/partial", "cache/archives/partial", "download"])
    mkdirSync(path.join(root, sub), { recursive: true });
  writeFileSync(
    path.join(root, "sources.list"),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`,
  );
  const download = path.join(root, "download");
  apt(root, ["update"], download);
  apt(root, ["download", pkg], download);
  const deb = readdirSync(download).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (deb === undefined) throw new Error(`apt-get download found no ${pkg} .deb for Debian ${suite}`);
  const unpacked = path.join(root, "unpacked");
  rmSync(unpacked, { recursive: true, force: true });
  execFileSync("dpkg", ["-x", path.join(download, deb), unpacked]);
  mkdirSync(dir, { recursive: true });
  // bookworm ships nats-server in /usr/sbin, later suites in /usr/bin.
  const inside = ["bin", "sbin"].map((d) => path.join(unpacked, "usr", d, binary)).find((p) => existsSync(p));
  if (inside === undefined)
    throw new Error(`the ${pkg} package of Debian ${suite} holds no usr/bin or usr/sbin/${binary}`);
  renameSync(inside, target);
  rmSync(root, { recursive: true, force: true });
  return target;
}

/** A tool (e.g. promtool) from Debian `suite`'s package `pkg`, kept in `.cache/debian-tools/<suite>/`. */
export function fetchDebianTool(pkg: string, binary: string, suite: DebianSuite): string {
  return fetchDebianBinary(pkg, binary, suite, path.join(repoRoot(), ".cache", "debian-tools", suite));
}

/** Downloads Debian `suite`'s nats-server into `cache/<suite>/nats-server` unless it is there. */
export function fetchFromDebian(suite: DebianSuite, cache = defaultCache()): NatsServerBinary {
  const dir = path.join(cache, suite);
  const binary = fetchDebianBinary("nats-server", "nats-server", suite, dir);
  return { path: binary, version: versionOf(binary), origin: `Debian ${suite} (cached in ${dir})` };
}

/**
 * An explicit binary wins; then one on PATH; then Debian sid's (the current release), fetched
 * once into the cache.
 */
export function resolveNatsServer(explicit?: string, cache = defaultCache()): NatsServerBinary {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new Error(`--nats-server: no file at ${explicit}`);
    return { path: explicit, version: versionOf(explicit), origin: "--nats-server" };
  }
  const found = onPath("nats-server");
  if (found !== undefined) return { path: found, version: versionOf(found), origin: "PATH" };
  return fetchFromDebian("sid", cache);
}

/**
 * Downloads Debian `suite`'s package `pkg` and unpacks it whole under `work` (created, and left
 * for the caller to remove once it has kept what it needs). For packages that are data rather than
 * one binary, e.g. python3-botocore's AWS API models. Returns the unpacked tree's root.
 */
export function unpackDebianPackage(pkg: string, suite: DebianSuite, work: string): string {
  for (const sub of ["lists/partial", "cache/archives/partial", "download"])
    mkdirSync(path.join(work, sub), { recursive: true });
  writeFileSync(
    path.join(work, "sources.list"),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`,
  );
  const download = path.join(work, "download");
  apt(work, ["update"], download);
  apt(work, ["download", pkg], download);
  const deb = readdirSync(download).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (deb === undefined) throw new Error(`apt-get download found no ${pkg} .deb for Debian ${suite}`);
  const unpacked = path.join(work, "unpacked");
  rmSync(unpacked, { recursive: true, force: true });
  execFileSync("dpkg", ["-x", path.join(download, deb), unpacked]);
  return unpacked;
}
