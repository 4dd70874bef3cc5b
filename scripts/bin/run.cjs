#!/usr/bin/env node
// Runs a compiled entry point from dist/scripts, rebuilding first when a source is newer.
const path = require("node:path");
const { BUNDLED_ENTRIES, DIST, bundledEntry, isStale } = require("./sources.cjs");

const [name, ...args] = process.argv.slice(2);
if (name === undefined || !/^[a-z-]+$/.test(name)) {
  process.stderr.write("usage: run.cjs <script> [args...]\n");
  process.exit(2);
}
if (isStale()) require("./build.cjs").build();
const entry = BUNDLED_ENTRIES.includes(name) ? bundledEntry(name) : path.join(DIST, "scripts", `${name}.js`);
process.argv = [process.argv[0], entry, ...args];
require(process.argv[1]);
