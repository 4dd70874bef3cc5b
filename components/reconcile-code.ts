/**
 * The KV reconcile job (`jetstream/reconcile-job.ts`) bundled into one CommonJS file, which the
 * targets deploy to run next to the cluster. It ships prebuilt in the package
 * (`lib/reconcile-job.js`, made by `npm run build`, which `npm ci` and `npm pack` run), so a
 * program that uses the components needs no bundler at `pulumi up`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

export const RECONCILE_BUNDLE = "zester-infra/reconcile-job.js";

/** The folders whose code the bundle holds (a checkout of the sources has them; the package does not). */
const BUNDLED_SOURCES = ["jetstream", "change", "topology", "sizing"];

/** The bundle's text; `file` is where it is (by default, this package's own). */
export function shippedReconcileCode(file = bundleFile()): string {
  const newer = newerSource(path.dirname(path.dirname(file)), statSync(file).mtimeMs);
  if (newer !== undefined)
    throw new Error(
      `${newer} is newer than the KV reconcile bundle lib/reconcile-job.js: run \`npm run build\` so what is deployed is what the sources say`,
    );
  return readFileSync(file, "utf8");
}

function bundleFile(): string {
  try {
    return require.resolve(RECONCILE_BUNDLE);
  } catch {
    throw new Error(
      `the KV reconcile bundle (${RECONCILE_BUNDLE}, lib/reconcile-job.js) is missing: run \`npm run build\` in zester-infra (npm ci and npm pack run it)`,
    );
  }
}

/** In a checkout of the sources, a source file edited after the bundle was built. */
function newerSource(root: string, built: number): string | undefined {
  for (const dir of BUNDLED_SOURCES) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    for (const entry of readdirSync(abs, { recursive: true, withFileTypes: true })) {
      const source = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && entry.name.endsWith(".ts") && statSync(source).mtimeMs > built)
        return path.relative(root, source);
    }
  }
  return undefined;
}
