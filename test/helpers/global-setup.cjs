// Before the workers start: builds dist/ once (so tests that spawn entry points never race to
// rebuild it) and fetches the nats-server builds the behaviour tests run against, promtool, and
// AWS's API models.
const { isStale } = require("../../scripts/bin/sources.cjs");

module.exports = async function globalSetup() {
  if (isStale()) require("../../scripts/bin/build.cjs").build();
  const { fetchFromDebian, fetchDebianTool } = require("../../dist/local/nats-binary.js");
  for (const suite of ["bookworm", "sid"]) fetchFromDebian(suite);
  // promtool checks the rendered alert rules (test/helpers/tools.ts names the same package).
  fetchDebianTool("prometheus", "promtool", "bookworm");
  // The AWS input checks' models (python3-botocore from Debian sid). Jest transpiles the
  // TypeScript helpers required here as it does the setup file itself.
  const { fetchAwsModels } = require("./aws-models.ts");
  const { AWS_API_SERVICES } = require("./aws-api-map.ts");
  fetchAwsModels(AWS_API_SERVICES);
};
