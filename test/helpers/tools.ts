/**
 * The outside tools the tests run, none of which a new machine has: Debian's builds, fetched into
 * `.cache/` (never installed) and run from there. This is the one list: global-setup.cjs fetches
 * the tools and global-setup-servers.cjs the nats-server builds before the workers start, and
 * every test runs a tool through the functions below.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchDebianTool, type DebianSuite } from "../../local/debian-archive";
import { fetchFromDebian } from "../../local/nats-binary";
import type { NftTool } from "../../twin/host/sandbox";
import { nftIn } from "../../twin/host/tools";
import {
  cloudInitTree as twinCloudInitTree,
  nftablesTree,
  xfsprogsTree as twinXfsprogsTree,
} from "../../scripts/twin-tools";

/** The nats-server lines every behaviour test runs against: Debian bookworm's and the current release. */
export const NATS_SERVER_SUITES: DebianSuite[] = ["bookworm", "sid"];

/**
 * Tier transitions and the stream copy also run on Debian trixie's 2.10, the line between: its
 * snapshots are 2.9's tar format (restored file by file), and it has `sync_interval` as the current line does.
 */
export const TRANSITION_SUITES: DebianSuite[] = ["bookworm", "trixie", "sid"];

/** The suite the other tools come from. */
const TOOLS_SUITE: DebianSuite = "bookworm";

/** Debian's Python, which the cloud-init package's script names (`#!/usr/bin/python3`). */
const DEBIAN_PYTHON = "/usr/bin/python3";

/** Debian bookworm's promtool (package prometheus), which checks the rendered alert rules. */
export function promtool(): string {
  return fetchDebianTool("prometheus", "promtool", TOOLS_SUITE);
}

/**
 * Debian bookworm's shellcheck. It links libgmp and libffi, which every Debian with apt has
 * (GnuTLS, which apt uses, needs both).
 */
export function shellcheckBinary(): string {
  return fetchDebianTool("shellcheck", "shellcheck", TOOLS_SUITE);
}

/** Debian bookworm's cloud-init with its Python modules, as a tree (`usr/bin/cloud-init`, …). */
export const cloudInitTree = (): string => twinCloudInitTree();

/** Debian bookworm's nft with its libraries: the twin's packet filter. */
export const nftTool = (): NftTool => nftIn(nftablesTree());

/** Debian bookworm's xfsprogs with the libraries it needs, as a tree (image.ts makes it a host's layer). */
export const xfsprogsTree = (): string => twinXfsprogsTree();

/** The tools above, fetched once before the tests (a no-op when `.cache/` has it). */
export function fetchTestTools(): void {
  promtool();
  shellcheckBinary();
  cloudInitTree();
  nftTool();
  xfsprogsTree();
}

/** Every nats-server line a test runs, fetched once before the server tests. */
export function fetchNatsServers(): void {
  for (const suite of TRANSITION_SUITES) fetchFromDebian(suite);
}

export interface ToolRun {
  status: number | null;
  /** stdout and stderr together. */
  out: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ToolRun {
  const r = spawnSync(command, args, { encoding: "utf8", env });
  if (r.error !== undefined) throw new Error(`${command} could not run: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Writes `text` to a temporary file, hands its path to `use`, and removes it. */
function withFile<T>(name: string, text: string, use: (file: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-tool-"));
  try {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `shellcheck --shell=SHELL` on a script's text. */
export function shellcheck(script: string, shell = "sh"): ToolRun {
  return withFile("script", script, (file) => run(shellcheckBinary(), [`--shell=${shell}`, file]));
}

/**
 * `cloud-init schema --config-file` on user data. `-S` keeps the machine's own Python modules
 * out, so the run depends on the fetched ones alone.
 */
export function cloudInitSchema(userData: string): ToolRun {
  if (!existsSync(DEBIAN_PYTHON))
    throw new Error(`cloud-init needs Debian's Python at ${DEBIAN_PYTHON} (the python3 package)`);
  const tree = cloudInitTree();
  return withFile("user-data", userData, (file) =>
    run(DEBIAN_PYTHON, ["-S", path.join(tree, "usr/bin/cloud-init"), "schema", "--config-file", file], {
      ...process.env,
      PYTHONPATH: path.join(tree, "usr/lib/python3/dist-packages"),
    }),
  );
}
