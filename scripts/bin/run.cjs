#!/usr/bin/env node
// Runs a compiled entry point from dist/scripts (the calculator from its bundle in dist/bundles),
// rebuilding first when a source it runs is newer.
const path = require("node:path");
const { BUNDLED_ENTRIES, DIST, bundledEntry, isBundleStale, isStale } = require("./sources.cjs");

const [name, ...args] = process.argv.slice(2);
if (name === undefined || !/^[a-z-]+$/.test(name)) {
  process.stderr.write("usage: run.cjs <script> [args...]\n");
  process.exit(2);
}
const bundled = BUNDLED_ENTRIES.includes(name);
if (bundled ? isBundleStale(name) : isStale()) require("./build.cjs").build();
const entry = bundled ? bundledEntry(name) : path.join(DIST, "scripts", `${name}.js`);
process.argv = [process.argv[0], entry, ...args];
require(process.argv[1]);
