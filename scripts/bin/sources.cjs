// The TypeScript that ships in dist/ (tests stay out), and whether dist/ is older than it.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".built");
const SOURCE_DIRS = [
  "sizing",
  "topology",
  "change",
  "components",
  "jetstream",
  "local",
  "load",
  "preview",
  "plan-json",
  "twin",
  "stacks",
  "scripts",
];

function sourceFiles() {
  const files = [];
  for (const dir of SOURCE_DIRS) {
    const abs = path.join(ROOT, dir);
    if (!fs.existsSync(abs)) continue;
    for (const entry of fs.readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        files.push(path.join(entry.parentPath, entry.name));
      }
    }
  }
  return files;
}

/**
 * Entry points run from one bundled file: the calculator, which must start about as fast as Node
 * itself (`npm run bench`, section startup). Everything else runs from dist/scripts/.
 */
const BUNDLED_ENTRIES = ["sizing"];
const bundledEntry = (name) => path.join(DIST, "bundles", `${name}.js`);
/** The sources a bundled entry point was built from (written next to it by build.cjs). */
const bundledInputs = (name) => path.join(DIST, "bundles", `${name}.inputs.json`);

/** The KV reconcile bundle the package ships (scripts/bin/bundle.cjs writes it). */
const BUNDLE = path.join(ROOT, "lib", "reconcile-job.js");

/** Whether dist/ or the bundle is missing or older than a source. */
function isStale() {
  let built;
  try {
    built = Math.min(fs.statSync(STAMP).mtimeMs, fs.statSync(BUNDLE).mtimeMs);
  } catch {
    return true;
  }
  return sourceFiles().some((file) => fs.statSync(file).mtimeMs > built);
}

/**
 * Whether a bundled entry point is missing or older than one of the sources it was built from:
 * only those are looked at (a source it does not import cannot change it; one that starts
 * importing another is itself newer), not every file of the project.
 */
function isBundleStale(name) {
  try {
    const built = fs.statSync(bundledEntry(name)).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(bundledInputs(name), "utf8"));
    return inputs.some((file) => fs.statSync(path.join(ROOT, file)).mtimeMs > built);
  } catch {
    return true;
  }
}

module.exports = {
  ROOT,
  DIST,
  STAMP,
  BUNDLE,
  BUNDLED_ENTRIES,
  bundledEntry,
  bundledInputs,
  sourceFiles,
  isStale,
  isBundleStale,
};
