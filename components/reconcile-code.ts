/**
 * The KV reconcile job (`jetstream/reconcile-job.ts`) bundled into one CommonJS file, which the
 * targets deploy to run next to the cluster. It ships prebuilt in the package
 * (`lib/reconcile-job.js`, made by `npm run build`, which `npm ci` and `npm pack` run), so a
 * program that uses the components needs no bundler at `pulumi up`.
 */
import { readFileSync } from "node:fs";

export const RECONCILE_BUNDLE = "zester-infra/reconcile-job.js";

export function shippedReconcileCode(): string {
  let file: string;
  try {
    file = require.resolve(RECONCILE_BUNDLE);
  } catch {
    throw new Error(
      `the KV reconcile bundle (${RECONCILE_BUNDLE}, lib/reconcile-job.js) is missing: run \`npm run build\` in zester-infra (npm ci and npm pack run it)`,
    );
  }
  return readFileSync(file, "utf8");
}
