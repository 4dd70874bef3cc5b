// Before the workers start: builds dist/ once (so tests that spawn entry points never race to
// rebuild it) and fetches the outside tools and data the tests use into .cache/. Jest transforms
// what its global setup requires, so the lists are read from the TypeScript helpers that use them.
const { isStale } = require("../../scripts/bin/sources.cjs");

module.exports = async function globalSetup() {
  if (isStale()) require("../../scripts/bin/build.cjs").build();
  require("./tools.ts").fetchTestTools();
  // The AWS input checks' models (python3-botocore from Debian sid).
  const { fetchAwsModels } = require("./aws-models.ts");
  const { AWS_API_SERVICES } = require("./aws-api-map.ts");
  fetchAwsModels(AWS_API_SERVICES);
};
