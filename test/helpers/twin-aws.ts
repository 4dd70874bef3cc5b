/**
 * The AWS twin as the tests run it: the stack's nats-server pin pointed at a release tarball of
 * Debian sid's nats-server in the twin's mirror (its hosts have no internet, as a VPC without
 * egress), and the twin served in the test's process with the stack planner.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { WritersReportSchema, type WritersReport, type WritersSpec } from "../../load/writers-spec";
import { fetchFromDebian } from "../../local/nats-binary";
import { planStack } from "../../scripts/twin-plan";
import { serveTwin, type ServedTwin } from "../../twin/daemon/server";
import { createTarget } from "../../twin/aws/target";
import type { Twin } from "../../twin/daemon/twin";
import { loadState } from "../../twin/engine/state";
import { toolEnvironment } from "../../twin/host/namespaces";
import { ROOT } from "./run";
import { cloudInitTree, nftTool, xfsprogsTree } from "./tools";

export const MIRROR_HOST = "downloads.zester.test";

/** Puts sid's nats-server into `<dir>/mirror` as a release tarball; returns the pin that names it. */
export function mirrorNatsServer(dir: string): { version: string; url: string; sha256: string } {
  const binary = fetchFromDebian("sid");
  const name = `nats-server-v${binary.version}-linux-amd64`;
  const folder = path.join(dir, "mirror", MIRROR_HOST, "nats");
  mkdirSync(folder, { recursive: true });
  const staging = mkdtempSync(path.join(os.tmpdir(), "zester-mirror-"));
  try {
    mkdirSync(path.join(staging, name));
    copyFileSync(binary.path, path.join(staging, name, "nats-server"));
    execFileSync("tar", ["-C", staging, "-czf", path.join(folder, `${name}.tar.gz`), name]);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const sha256 = createHash("sha256")
    .update(readFileSync(path.join(folder, `${name}.tar.gz`)))
    .digest("hex");
  return { version: binary.version, url: `https://${MIRROR_HOST}/nats/${name}.tar.gz`, sha256 };
}

/** `--set`s that point the stack's AWS settings (as stacks/Pulumi.<stack>.yaml has them) at the mirror. */
export function mirroredSettings(aws: Record<string, unknown>, pin: ReturnType<typeof mirrorNatsServer>): string[] {
  return [`zester:aws=${JSON.stringify({ ...aws, natsServer: pin })}`];
}

/** An AWS twin served in this process (its own state directory under a temporary parent). */
export async function serveAwsTwin(
  label: string,
): Promise<{ dir: string; served: ServedTwin; remove(): Promise<void> }> {
  const parent = mkdtempSync(path.join(os.tmpdir(), `zester-${label}-`));
  const dir = path.join(parent, "state");
  const served = await serveTwin({
    dir,
    tools: { nft: nftTool(), xfsprogs: xfsprogsTree(), cloudInit: cloudInitTree() },
    targetName: "aws",
    target: createTarget,
    plan: planStack,
  });
  return {
    dir,
    served,
    remove: async () => {
      await served.down();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** A parameter's value as the twin's stack state holds it (what `pulumi stack output --show-secrets` reads). */
export function parameterValue(dir: string, name: string): string {
  const found = loadState(dir).resources.find(
    (r) => r.type === "aws:ssm/parameter:Parameter" && r.inputs.name === name,
  );
  if (typeof found?.inputs.value !== "string") throw new Error(`no parameter ${name} in the twin's stack state`);
  return found.inputs.value;
}

export interface RunningWriters {
  /** Stops writing, looks every acknowledged write up again, and says what it found. */
  stop(): Promise<WritersReport>;
}

/**
 * Peels writing from a client in `cidr` of the twin (load/writers-process.ts, from dist/), until
 * `stop`; resolves once every peel had a write acknowledged.
 */
export async function twinWriters(twin: Twin, cidr: string, spec: WritersSpec): Promise<RunningWriters> {
  const client = await twin.openExec(cidr);
  const [command = "", ...args] = client.command([
    process.execPath,
    path.join(ROOT, "dist", "load", "writers-process.js"),
  ]);
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: toolEnvironment() });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code) => {
      resolve(code ?? 1);
    });
  });
  child.stdin.write(`${JSON.stringify(spec)}\n`);
  const deadline = Date.now() + 60_000;
  while (!out.includes("started\n")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await client.release();
      throw new Error(`the writers did not start: ${err || out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    stop: async () => {
      child.stdin.end("stop\n");
      const code = await exited;
      await client.release();
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0) throw new Error(`the writers failed (${String(code)}): ${err}`);
      return WritersReportSchema.parse(JSON.parse(last));
    },
  };
}
