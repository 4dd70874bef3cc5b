// Before the workers start: builds dist/ once (so tests that spawn entry points never race to
// rebuild it) and fetches the outside tools the tests run into .cache/. Jest transforms what its
// global setup requires, so the list is read from the TypeScript helper that runs the tools.
const { isStale } = require("../../scripts/bin/sources.cjs");

module.exports = async function globalSetup() {
  if (isStale()) require("../../scripts/bin/build.cjs").build();
  require("./tools.ts").fetchTestTools();
};
