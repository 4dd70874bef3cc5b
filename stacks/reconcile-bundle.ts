/**
 * The KV reconcile job bundled into one CommonJS file for a scheduled function. Built from
 * source on every run (esbuild, about a quarter of a second), so what is deployed is always what
 * the tests run; the output is deterministic, so an unchanged source shows no diff.
 */
import path from "node:path";
import { buildSync } from "esbuild";
import { repoRoot } from "../local/repo-root";

/** The Node.js line of the function runtime the bundle targets (Lambda `nodejs22.x`). */
export const BUNDLE_TARGET = "node22";

export function reconcileBundle(): string {
  const root = repoRoot();
  const result = buildSync({
    entryPoints: [path.join(root, "jetstream", "reconcile-job.ts")],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: BUNDLE_TARGET,
    format: "cjs",
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("esbuild produced no bundle for jetstream/reconcile-job.ts");
  return file.text;
}
