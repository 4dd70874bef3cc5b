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

function build() {
  fs.rmSync(DIST, { recursive: true, force: true });
  require("esbuild").buildSync({
    entryPoints: sourceFiles(),
    outdir: DIST,
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
      outfile: bundledEntry(name),
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
    fs.writeFileSync(bundledInputs(name), `${JSON.stringify(ours)}\n`);
  }
  require("./bundle.cjs").writeBundle();
  fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

module.exports = { build };
if (require.main === module) build();
