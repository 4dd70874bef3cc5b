/**
 * `npm run -s fleet -- --peels N [--peels-per-process K] [--duration S] [--json]`: simulated
 * peels against a running local topology (`npm run -s local -- up --detach`).
 */
import path from "node:path";
import { runFleet, type FleetReport } from "../load/fleet";
import { describeTraffic, trafficModel } from "../load/traffic";
import { repoRoot } from "../local/repo-root";
import { readState } from "../local/state";
import { BANDWIDTH } from "../sizing/guide";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./cli";

const MAX_PEELS = 200_000;

const USAGE = `Usage: npm run -s fleet -- --peels N [--peels-per-process K] [--duration S] [--json]
                            [--fact-interval S] [--state-dir DIR]

Runs N simulated peels against the topology a detached \`npm run -s local -- up\` started: each a
real NATS connection with a peel's identity and client settings, many per process. Each peel
connects and enrolls, then for --duration seconds heartbeats (100 B a second), syncs its facts
(2 KB every --fact-interval) and returns the jobs a simulated master dispatches (every 5 s to 1%
of the peels, 10 KB returns). Afterwards every acknowledged KV write is read back.

Flags:
  --peels N               simulated peels: 1 to ${MAX_PEELS.toLocaleString("en-US")} (required)
  --peels-per-process K   peels per worker process: 1 to 5,000; default 1,000
  --duration S            seconds of steady traffic after every peel connected: 1 to 3,600; default 10
  --fact-interval S       seconds between two fact syncs of a peel: 1 to 86,400; default ${String(BANDWIDTH.referenceFactIntervalSeconds)} (the guide's bandwidth table)
  --json                  print { peels, durationSeconds, connected, acked, lost, p50Ms, p99Ms, servers: [...], ... }
  --state-dir DIR         the running topology's state directory; default .state/local
  -h, --help              show this help

Exit status: 0 when nothing acknowledged was lost, 1 when something was (or the run failed), 2 on
bad input or when nothing is up in the state directory.`;

function text(r: FleetReport, stateDir: string): string {
  const ms = (v: number | null): string => (v === null ? "n/a" : `${v.toFixed(1)} ms`);
  return [
    `${r.tier} tier in ${stateDir} (nats-server ${r.natsServer}): ${String(r.peels)} simulated peels in ${String(r.processes)} processes, ${String(r.durationSeconds)} s`,
    `connections held      ${String(r.connected)} of ${String(r.peels)} (all connected and enrolled in ${r.connectSeconds.toFixed(1)} s)`,
    `messages per second   ${String(r.messagesPerSecond)} published by peels and master (the model asks ${String(r.modelMessagesPerSecond)}); ${String(r.heartbeatsReceived)} heartbeats reached the master`,
    `KV writes per second  ${String(r.kvWritesPerSecond)} acknowledged in the steady phase`,
    `acknowledged writes   ${String(r.acked)} (${String(r.unacked)} never acknowledged)`,
    `lost acknowledged     ${String(r.lost)} (read back: ${String(r.readBack.found)} found, ${String(r.readBack.superseded)} superseded by newer revisions)`,
    `publish-to-ack        p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}`,
    `jobs                  ${String(r.jobs.dispatched)} dispatched to ${String(r.jobs.messages)} peels, ${String(r.jobs.received)} received`,
    `simulator CPU         ${String(r.clientCpuPercent)}% of one core`,
    "",
    "servers (name  CPU mean/max %  memory MiB  connections  msgs in/s):",
    ...r.servers.map(
      (s) =>
        `  ${s.name.padEnd(22)} ${s.cpuPercentMean.toFixed(0).padStart(4)} / ${s.cpuPercentMax.toFixed(0).padEnd(4)} ${s.memMiBMax.toFixed(0).padStart(6)} ${String(s.connections).padStart(8)} ${s.inMsgsPerSecond.toFixed(0).padStart(9)}`,
    ),
    "",
    `traffic: ${describeTraffic(r.traffic)}`,
    ...Object.entries({ ...r.connectFailures, ...r.failures }).map(([k, n]) => `  ${String(n)} × ${k}`),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    peels: { type: "string" },
    "peels-per-process": { type: "string" },
    duration: { type: "string" },
    "fact-interval": { type: "string" },
    json: { type: "boolean" },
    "state-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.peels === undefined) throw new UsageError("--peels is required");
  const peels = wholeNumberFlag("peels", values.peels, 1, MAX_PEELS);
  const peelsPerProcess = wholeNumberFlag("peels-per-process", values["peels-per-process"] ?? "1000", 1, 5_000);
  const durationSeconds = wholeNumberFlag("duration", values.duration ?? "10", 1, 3_600);
  const factInterval = wholeNumberFlag(
    "fact-interval",
    values["fact-interval"] ?? String(BANDWIDTH.referenceFactIntervalSeconds),
    1,
    86_400,
  );
  const stateDir = path.resolve(values["state-dir"] ?? path.join(repoRoot(), ".state", "local"));
  if (readState(stateDir) === undefined)
    throw new UsageError(`nothing is up in ${stateDir}: start a tier with \`npm run -s local -- up --detach\` first`);
  const json = values.json === true;
  const report = await runFleet({
    stateDir,
    peels,
    peelsPerProcess,
    durationSeconds,
    traffic: trafficModel(factInterval),
    ...(json
      ? {}
      : {
          log: (line: string) => {
            process.stderr.write(`${line}\n`);
          },
        }),
  });
  process.stdout.write(`${json ? JSON.stringify(report, null, 2) : text(report, stateDir)}\n`);
  return report.lost === 0 ? 0 : 1;
}

runMain("fleet", () => main(process.argv.slice(2)));
