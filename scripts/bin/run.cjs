#!/usr/bin/env node
// Runs a compiled entry point from dist/scripts, rebuilding first when a source is newer.
const path = require("node:path");
const { DIST, isStale } = require("./sources.cjs");

const [name, ...args] = process.argv.slice(2);
if (name === undefined || !/^[a-z-]+$/.test(name)) {
  process.stderr.write("usage: run.cjs <script> [args...]\n");
  process.exit(2);
}
if (isStale()) require("./build.cjs").build();
process.argv = [process.argv[0], path.join(DIST, "scripts", `${name}.js`), ...args];
require(process.argv[1]);
