#!/usr/bin/env node
// The KV reconcile job (jetstream/reconcile-job.ts) bundled into one CommonJS file,
// lib/reconcile-job.js, which the targets deploy next to the cluster. It ships prebuilt in the
// package: `npm ci` (prepare) and `npm pack` (prepack) build it, so `pulumi up` needs no bundler.
// The output is deterministic: an unchanged source is no diff on `pulumi up`.
const fs = require("node:fs");
const path = require("node:path");
const { ROOT, BUNDLE } = require("./sources.cjs");
/** The Node.js line of the runtimes that load the bundle (Lambda nodejs22.x, node:22-alpine). */
const BUNDLE_TARGET = "node22";

function bundleText() {
  const result = require("esbuild").buildSync({
    entryPoints: [path.join(ROOT, "jetstream", "reconcile-job.ts")],
    absWorkingDir: ROOT,
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

/** Written whole or not at all: a plan that reads the bundle meanwhile never sees half of it. */
function writeBundle() {
  fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
  const partial = `${BUNDLE}.${String(process.pid)}.tmp`;
  fs.writeFileSync(partial, bundleText());
  fs.renameSync(partial, BUNDLE);
}

module.exports = { BUNDLE, bundleText, writeBundle };
if (require.main === module) writeBundle();
