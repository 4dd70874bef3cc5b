#!/usr/bin/env node
// Transpiles the sources to dist/ without type-checking (`tsc --noEmit` in `npm test` does
// that once), so command-line entry points start as plain Node; bundles the entry points that
// must start as fast as Node itself into one file each (dist/bundles/: one file to read and
// compile instead of dozens to find); and bundles the KV reconcile the targets deploy
// (lib/reconcile-job.js). `npm ci` runs it (prepare); so does any entry point, or the tests, once a
// source is newer than what was built.
const fs = require("node:fs");
const path = require("node:path");
const { ROOT, DIST, STAMP, BUNDLED_ENTRIES, bundledEntry, bundledInputs, sourceFiles } = require("./sources.cjs");

/**
 * Builds into a directory beside dist/ and swaps it in whole: tests run in parallel workers, and a
 * build (`npm pack` runs prepare) must not take dist/ away from a command starting meanwhile.
 * The beside directory is at dist/'s depth, so the source maps' relative paths hold after the swap.
 */
function build() {
  const staging = `${DIST}.building-${String(process.pid)}`;
  fs.rmSync(staging, { recursive: true, force: true });
  buildInto(staging);
  swapIn(staging);
}

function buildInto(out) {
  require("esbuild").buildSync({
    entryPoints: sourceFiles(),
    outdir: out,
    outbase: ROOT,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    // `await import("…")` loads a module when it is needed (the program loads only its target's
    // component): as require(), as TypeScript compiles it for CommonJS, not as an ES module import.
    supported: { "dynamic-import": false },
    logLevel: "warning",
  });
  for (const name of BUNDLED_ENTRIES) {
    const { metafile } = require("esbuild").buildSync({
      entryPoints: [path.join(ROOT, "scripts", `${name}.ts`)],
      outfile: path.join(out, path.relative(DIST, bundledEntry(name))),
      absWorkingDir: ROOT,
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      metafile: true,
      logLevel: "warning",
    });
    const ours = Object.keys(metafile.inputs).filter((file) => !file.startsWith("node_modules/"));
    fs.writeFileSync(path.join(out, path.relative(DIST, bundledInputs(name))), `${JSON.stringify(ours)}\n`);
  }
  require("./bundle.cjs").writeBundle();
  fs.writeFileSync(path.join(out, path.relative(DIST, STAMP)), `${new Date().toISOString()}\n`);
}

/**
 * Two renames with nothing between them; a build that finished first meanwhile wins (the same
 * sources, the same output) and this one is dropped.
 */
function swapIn(staging) {
  const old = `${DIST}.old-${String(process.pid)}`;
  try {
    fs.renameSync(DIST, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  try {
    fs.renameSync(staging, DIST);
  } catch (error) {
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    fs.rmSync(staging, { recursive: true, force: true });
  }
  fs.rmSync(old, { recursive: true, force: true });
}

module.exports = { build };
if (require.main === module) build();
