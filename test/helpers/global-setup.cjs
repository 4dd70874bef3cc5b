// Before the workers start: builds dist/ once (so tests that spawn entry points never race to
// rebuild it) and fetches the nats-server builds the behaviour tests run against, and promtool.
const { isStale } = require("../../scripts/bin/sources.cjs");

module.exports = async function globalSetup() {
  if (isStale()) require("../../scripts/bin/build.cjs").build();
  const { fetchFromDebian } = require("../../dist/local/nats-binary.js");
  const { fetchDebianTool } = require("../../dist/local/debian-archive.js");
  for (const suite of ["bookworm", "sid"]) fetchFromDebian(suite);
  // promtool checks the rendered alert rules (test/helpers/tools.ts names the same package).
  fetchDebianTool("prometheus", "promtool", "bookworm");
};
