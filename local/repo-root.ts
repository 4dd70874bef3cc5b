import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root (where Pulumi.yaml is), whether code runs from source or from dist/. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Pulumi.yaml not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}
