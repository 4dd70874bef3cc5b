/**
 * The embedded local target: `npm run -s local -- <up|status|down> [flags]`; `npm start` is
 * `local up` in the foreground.
 */
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { PEELS_ACCEPTED } from "../sizing";
import { MAX_PEELS } from "../sizing/policy";
import { startDriftCorrection } from "../jetstream/reconcile";
import { status, type StatusReport } from "../jetstream/health";
import { resolveNatsServer } from "../local/nats-binary";
import { connectInfo, connectLines, writeConnectFiles } from "../local/connect";
import { connectCluster } from "../local/kv";
import { repoRoot } from "../local/repo-root";
import { down, isAlive, RefusedError, topologyOf, up } from "../local/runner";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./cli";
import { readState, type LocalState } from "../local/state";
import type { Topology } from "../topology/types";

const USAGE = `Usage: npm run -s local -- <command> [flags]     (npm start = local up)

Runs the tier for N peels on this machine: one real nats-server process per planned server,
on loopback with free ports, data under a state directory. Resources are this machine's; the
shape (servers, leaf sites, region links, JetStream domains, KV replicas) is the tier's.

Commands:
  up       start (or restart, keeping the data), wait until healthy, reconcile the KV buckets,
           print the status; stays in the foreground correcting KV replica drift every minute
           until Ctrl-C, which stops every server through lame duck
  status   print the status of a running topology
  down     stop every server through lame duck

Flags:
  --peels N            (up) how many peels: ${PEELS_ACCEPTED}; default 2000 (a 3-node cluster)
  --detach             (up) start, print the status and leave the servers running
  --nats-server PATH   (up) the nats-server binary; default: one on PATH, else Debian sid's
                       current build, fetched once into .cache/nats-server/
  --master-bin PATH    (up) a Zester master binary: one runs next to every core server, with
                       its rendered config (\`PATH --config master.yaml\`)
  --peel-bin PATH      (up) a Zester peel binary, run with its rendered peel config
  --peel-procs N       (up) how many peel processes, spread over leaf sites and regions
                       (default 1; needs --peel-bin)
  --state-dir DIR      where data, configs and logs live; default .state/local
  --json               (status) print JSON instead of a table
  --purge              (down) also remove the state directory and its data
  -h, --help           show this help

Exit status: 0 on success, 1 when the topology fails (or status finds it unhealthy), 2 on bad
input or a refused change (e.g. single server → cluster, which needs a data migration).`;

function print(report: StatusReport, extra: string[] = []): void {
  const rows = report.servers.map((s) =>
    [
      s.name,
      s.role,
      s.cluster ?? s.site ?? "",
      s.clientUrl,
      s.healthy ? "ok" : `NOT OK: ${String(s.problem)}`,
      String(s.routes),
      String(s.leafLinks),
    ].join("  "),
  );
  const lines = [
    `tier ${report.tier}: ${report.healthy ? "healthy" : "NOT healthy"}`,
    `meta leader: ${Object.entries(report.metaLeaders)
      .map(([r, l]) => `${r}=${String(l)}`)
      .join(", ")}`,
    "",
    "servers (name  role  cluster/site  client URL  health  routes  leaf links):",
    ...rows.map((r) => `  ${r}`),
    "",
    "KV buckets (region: stream=replicas):",
    ...[...new Set(report.kv.map((k) => k.region))].map(
      (region) =>
        `  ${region}: ${report.kv
          .filter((k) => k.region === region)
          .map((k) => `${k.stream}=${String(k.replicas)}`)
          .join(" ")}`,
    ),
    ...extra,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function executable(value: string | boolean | undefined, flag: string): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    accessSync(value, constants.X_OK);
  } catch {
    throw new UsageError(`${flag}: ${value} is not an executable file`);
  }
  return path.resolve(value);
}

async function cmdUp(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<void> {
  const peels = wholeNumberFlag("peels", typeof values.peels === "string" ? values.peels : "2000", 0, MAX_PEELS);
  const detach = values.detach === true;
  const masterBin = executable(values["master-bin"], "--master-bin");
  const peelBin = executable(values["peel-bin"], "--peel-bin");
  const procs = values["peel-procs"];
  if (procs !== undefined && peelBin === undefined) throw new UsageError("--peel-procs needs --peel-bin");
  const peelProcs = wholeNumberFlag("peel-procs", typeof procs === "string" ? procs : "1", 1, 1_000);
  // Every flag is checked before anything is fetched or started.
  const natsServer = resolveNatsServer(typeof values["nats-server"] === "string" ? values["nats-server"] : undefined);
  process.stdout.write(`nats-server ${natsServer.version} from ${natsServer.origin}\n`);
  const running = await up({
    peels,
    stateDir,
    natsServer,
    detach,
    ...(masterBin === undefined ? {} : { masterBin }),
    ...(peelBin === undefined ? {} : { peelBin, peelProcs }),
  });
  const changed = Object.entries(running.kvChanges).flatMap(([region, cs]) =>
    cs
      .filter((c) => c.action !== "unchanged")
      .map((c) => `${region}/${c.stream}: ${c.action}${c.from === undefined ? "" : ` ${c.from}→${c.replicas}`}`),
  );
  print(running.report, [
    "",
    `KV reconcile: ${changed.length === 0 ? "nothing to change" : changed.join(", ")}`,
    `Resources are scaled to this machine; servers, leaf sites, region links, domains and replicas are the ${running.report.tier} tier's.`,
    ...running.state.zester.map((z) => `zester ${z.kind} ${z.name}: pid ${String(z.pid)}, log ${z.logPath}`),
    `State: ${stateDir}`,
    "",
    ...connectSection(running.topology, running.state, stateDir),
  ]);
  if (detach) {
    process.stdout.write("Detached: `npm run -s local -- status` to look, `npm run -s local -- down` to stop.\n");
    return;
  }
  const interrupted = new Promise<void>((resolve) => {
    process.once("SIGINT", () => {
      resolve();
    });
    process.once("SIGTERM", () => {
      resolve();
    });
  });
  const stops: (() => void)[] = [];
  for (const cluster of running.topology.clusters) {
    const nc = await connectCluster(running.topology, cluster, running.state);
    const stop = startDriftCorrection(nc, running.topology.plan.kv, {
      clusterSize: cluster.servers.length,
      intervalMs: 60_000,
      onChange: (cs) =>
        process.stdout.write(
          `${new Date().toISOString()} ${cluster.region}: corrected ${cs.map((c) => `${c.stream} ${String(c.from)}→${c.replicas}`).join(", ")}\n`,
        ),
      onError: (e) =>
        process.stderr.write(`${new Date().toISOString()} ${cluster.region}: reconcile failed: ${String(e)}\n`),
    });
    stops.push(() => {
      stop();
      void nc.close();
    });
  }
  process.stdout.write("Running in the foreground; Ctrl-C stops every server through lame duck.\n");
  await interrupted;
  for (const stop of stops) stop();
  process.stdout.write("stopping through lame duck…\n");
  const stopped = await down(stateDir);
  process.stdout.write(`stopped ${stopped.length} servers; data kept in ${stateDir}\n`);
}

/** How to connect, printed by `up` and `status` (the context file is written again each time). */
function connectSection(t: Topology, state: LocalState, stateDir: string): string[] {
  const info = connectInfo(t, stateDir);
  return connectLines(info, writeConnectFiles(stateDir, info));
}

async function cmdStatus(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<number> {
  const state = readState(stateDir);
  if (state === undefined) throw new UsageError(`nothing is up in ${stateDir}`);
  const topology = topologyOf(state);
  const report = await status(topology);
  if (values.json === true) {
    const connect = connectInfo(topology, stateDir);
    process.stdout.write(
      `${JSON.stringify({ ...report, natsServer: state.natsServer, stateDir, connect }, null, 2)}\n`,
    );
  } else {
    const alive = state.servers.filter((s) => isAlive(s.pid, s.confPath)).length;
    print(report, [
      "",
      `${alive} of ${state.servers.length} server processes running; state: ${stateDir}`,
      "",
      ...connectSection(topology, state, stateDir),
    ]);
  }
  return report.healthy ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const values = parseFlags(rest, {
    peels: { type: "string" },
    detach: { type: "boolean" },
    "nats-server": { type: "string" },
    "master-bin": { type: "string" },
    "peel-bin": { type: "string" },
    "peel-procs": { type: "string" },
    "state-dir": { type: "string" },
    json: { type: "boolean" },
    purge: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (command === undefined || command === "--help" || command === "-h" || values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const stateDir = path.resolve(
    typeof values["state-dir"] === "string" ? values["state-dir"] : path.join(repoRoot(), ".state", "local"),
  );
  switch (command) {
    case "up":
      await cmdUp(values, stateDir);
      return 0;
    case "status":
      return cmdStatus(values, stateDir);
    case "down": {
      const stopped = await down(stateDir, { purge: values.purge === true });
      process.stdout.write(
        `stopped ${stopped.length} servers${values.purge === true ? `; removed ${stateDir}` : ""}\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; expected up, status or down`);
  }
}

runMain(
  "local",
  () => main(process.argv.slice(2)),
  (error) => error instanceof RefusedError,
);
