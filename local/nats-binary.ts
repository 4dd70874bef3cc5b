/**
 * Finds a `nats-server` to run: an explicit path, one on PATH, or a build from Debian's archive
 * fetched into a project-local cache (`.cache/nats-server/<suite>/`). Debian's packages carry one
 * static binary, which runs on any of its suites.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { cacheDir, fetchDebianBinary, type DebianSuite } from "./debian-archive";

export type { DebianSuite } from "./debian-archive";

export interface NatsServerBinary {
  path: string;
  /** e.g. "2.9.10" */
  version: string;
  /** Where it came from, for the user: "PATH", "--nats-server", "Debian sid (cached)". */
  origin: string;
}

export const defaultCache = (): string => path.join(cacheDir(), "nats-server");

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
