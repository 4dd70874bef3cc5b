// Builds dist/ once before the workers start, so tests that spawn the command-line entry
// points never race to rebuild it.
const { isStale } = require("../../scripts/bin/sources.cjs");

module.exports = async function globalSetup() {
  if (isStale()) require("../../scripts/bin/build.cjs").build();
};
