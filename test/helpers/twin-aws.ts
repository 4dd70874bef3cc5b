/**
 * The AWS twin as the tests run it: the stack's nats-server pin pointed at a release tarball of
 * Debian sid's nats-server in the twin's mirror (its hosts have no internet, as a VPC without
 * egress), and the twin served in the test's process with the stack planner.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchFromDebian } from "../../local/nats-binary";
import { planStack } from "../../scripts/twin-plan";
import { serveTwin, type ServedTwin } from "../../twin/daemon/server";
import { createTarget } from "../../twin/aws/target";
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
