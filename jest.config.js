/**
 * Two sets of tests in one run (`npm test`), or the first alone (`npm run test:unit`):
 *
 * - `unit`: pure code, Pulumi's mocks, the command-line entry points and the fetched tools; no
 *   server, no network namespace. The inner loop.
 * - `servers`: every file whose first comment carries `@servers`: real nats-server processes
 *   (and, with the twins, network namespaces). Their global setup fetches the nats-server builds.
 *
 * Workers: most of a server test's time is spent waiting on its servers (elections, lame duck,
 * catch-up), not on a core; `npm test` runs a worker for every two cores (ZESTER_TEST_WORKERS
 * overrides it; jest's own default, cores − 1, is one worker on two cores). The sequencer
 * (test/helpers/sequencer.cjs) starts files marked `@long` first, so the minutes they take
 * overlap everything else instead of trailing it.
 *
 * A new heavy suite (minutes of real servers, e.g. a twin of AWS or Kubernetes):
 * - one file per independent unit of work (one per nats-server version, one per segment of a
 *   chain), each marked `@servers` and, when it runs for minutes, `@long`: the files run in
 *   parallel workers, a single file never does;
 * - it takes free ports (local/ports.ts), a state directory of its own (`mkdtemp`), its own
 *   network namespaces inside an unprivileged `unshare`, and stops every process it started by
 *   its pid: workers run side by side and share nothing but `.cache/`;
 * - tools and data come from `.cache/`, fetched once before the workers start (global-setup.cjs,
 *   global-setup-servers.cjs): a test never downloads.
 */
const { readdirSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { pragmas } = require("./test/helpers/pragmas.cjs");

const TEST_ROOT = path.join(__dirname, "test");

const testFiles = readdirSync(TEST_ROOT, { recursive: true })
  .filter((f) => f.endsWith(".test.ts") && !f.startsWith("fixtures"))
  .map((f) => path.join(TEST_ROOT, f));
const serverFiles = testFiles.filter((f) => pragmas(f).has("servers"));
const escape = (f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }],
};

/**
 * Workers for a run that includes the server tests: one for every two cores (ZESTER_TEST_WORKERS
 * to choose). On two cores, two to four workers took the suite from 24 to 13-16 minutes, but
 * the load (6-9) the unit files (Pulumi mocks, whole plans) added next to the servers made
 * 5-node tiers form their meta group too late, 2.9.10's route race come up at boot, and
 * 2.10.27 leave a stream without a leader during a copy: fewer, reliable workers until the
 * unit files are lighter and those waits are mended.
 */
const CORES_PER_WORKER = 2;

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: process.env.ZESTER_TEST_WORKERS ?? Math.max(1, Math.floor(os.availableParallelism() / CORES_PER_WORKER)),
  globalSetup: "<rootDir>/test/helpers/global-setup.cjs",
  globalTeardown: "<rootDir>/test/helpers/global-teardown.cjs",
  testSequencer: "<rootDir>/test/helpers/sequencer.cjs",
  reporters: ["default", "<rootDir>/test/helpers/summary-reporter.cjs"],
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/test"],
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...serverFiles.map((f) => `^${escape(f)}$`)],
      transform,
    },
    {
      displayName: "servers",
      testEnvironment: "node",
      roots: ["<rootDir>/test"],
      testMatch: serverFiles.length > 0 ? serverFiles : ["<rootDir>/test/no-server-tests"],
      globalSetup: "<rootDir>/test/helpers/global-setup-servers.cjs",
      transform,
    },
  ],
};
