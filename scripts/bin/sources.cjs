// The TypeScript that ships in dist/ (tests stay out), and whether dist/ is older than it.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".built");
const SOURCE_DIRS = [
  "sizing",
  "topology",
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

module.exports = { ROOT, DIST, STAMP, BUNDLE, sourceFiles, isStale };
