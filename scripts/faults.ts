/**
 * `npm run -s faults -- [--peels N] [--json] [--short] [--only NAME,...]`: the fault suite. Each
 * scenario starts the tier it needs on loopback, in a temporary directory of its own, and stops
 * it again; exit status 1 when any acknowledged write was lost or a tier did not recover.
 */
import { resolveNatsServer } from "../local/nats-binary";
import { runFaults, SCENARIO_NAMES, stopRunningScenarios, type FaultsReport } from "../load/faults";
import { scenarios } from "../load/fault-scenarios";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./cli";

const DEFAULT_PEELS = 20;
const MAX_PEELS = 1_000;

const USAGE = `Usage: npm run -s faults -- [--peels N] [--json] [--short] [--only NAME,...] [--nats-server PATH]

Runs fault scenarios against the tiers they need, each started on loopback in a temporary
directory of its own, while simulated peels write into the job-returns bucket. For each: the
write gap, the recovery time and the acknowledged writes lost (every one is read back by its
sequence number afterwards).

Scenarios:
${scenarios()
  .map((s) => `  ${s.name.padEnd(20)} ${s.what}`)
  .join("\n")}

Flags:
  --peels N            writing peels per scenario: 1 to ${String(MAX_PEELS)}; default ${String(DEFAULT_PEELS)}
  --json               print { natsServer, peels, short, scenarios: [{ name, gapMs, recoveryMs, acked, lost, ... }] }
  --short              restart after 1 s, freeze and cut 3 s (npm test runs this); default: the
                       unit's RestartSec (5 s), a 10 s freeze and a 10 s cut
  --only NAMES         comma-separated scenario names; default all
  --nats-server PATH   the nats-server binary; default: one on PATH, else Debian sid's current build
  -h, --help           show this help

Exit status: 0 when every scenario recovered and lost nothing acknowledged, 1 otherwise, 2 on bad input.`;

function table(report: FaultsReport): string {
  const rows = report.scenarios.map((s) =>
    [
      s.name.padEnd(20),
      s.tier.padEnd(12),
      `${String(s.gapMs)} ms`.padStart(9),
      `${String(s.outageMs)} ms`.padStart(9),
      (s.recoveryMs === null ? "NOT RECOVERED" : `${String(s.recoveryMs)} ms`).padStart(13),
      String(s.acked).padStart(7),
      String(s.lost).padStart(5),
      String(s.unacked).padStart(8),
    ].join("  "),
  );
  return [
    `nats-server ${report.natsServer}, ${String(report.peels)} writing peels per scenario${report.short ? " (short)" : ""}`,
    "",
    `${"scenario".padEnd(20)}  ${"tier".padEnd(12)}  ${"gap".padStart(9)}  ${"outage".padStart(9)}  ${"recovery".padStart(13)}  ${"acked".padStart(7)}  ${"lost".padStart(5)}  ${"unacked".padStart(8)}`,
    ...rows,
    "",
    ...report.scenarios.map((s) => `${s.name}: ${s.detail}`),
    "",
    "gap: the longest one peel went without an acknowledged write; outage: the longest no peel got one;",
    "recovery: from the fault until every server is healthy, every replica current and every peel writing.",
  ].join("\n");
}

function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    peels: { type: "string" },
    json: { type: "boolean" },
    short: { type: "boolean" },
    only: { type: "string" },
    "nats-server": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return Promise.resolve(0);
  }
  const peels = wholeNumberFlag("peels", values.peels ?? String(DEFAULT_PEELS), 1, MAX_PEELS);
  const only = values.only?.split(",").map((n) => n.trim());
  const unknown = only?.filter((n) => !SCENARIO_NAMES.includes(n)) ?? [];
  if (unknown.length > 0 || only?.length === 0)
    throw new UsageError(
      `--only: unknown scenario ${JSON.stringify(unknown.join(","))}; accepted: ${SCENARIO_NAMES.join(", ")}`,
    );
  const natsServer = resolveNatsServer(values["nats-server"]);
  const json = values.json === true;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      process.stderr.write(`faults: ${signal}: stopping the scenario's servers\n`);
      void stopRunningScenarios().finally(() => process.exit(130));
    });
  return runFaults({
    natsServer,
    peels,
    short: values.short === true,
    ...(only === undefined ? {} : { only }),
    ...(json ? {} : { log }),
  }).then((report) => {
    process.stdout.write(`${json ? JSON.stringify(report, null, 2) : table(report)}\n`);
    return report.scenarios.every((s) => s.recovered && s.lost === 0) ? 0 : 1;
  });
}

runMain("faults", () => main(process.argv.slice(2)));
