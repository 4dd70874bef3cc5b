// The TypeScript that ships in dist/ (tests stay out), and whether dist/ is older than it.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".built");
const SOURCE_DIRS = ["sizing", "topology", "components", "jetstream", "local", "load", "stacks", "scripts"];

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

function isStale() {
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  return sourceFiles().some((file) => fs.statSync(file).mtimeMs > built);
}

module.exports = { ROOT, DIST, STAMP, sourceFiles, isStale };
