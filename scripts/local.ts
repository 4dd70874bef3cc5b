/**
 * The embedded local target: `npm run -s local -- <up|status|down> [flags]`; `npm start` is
 * `local up` in the foreground.
 */
import { fork } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { PEELS_ACCEPTED, SpecError } from "../sizing";
import { problemsOf, type Problem } from "../sizing/spec";
import { MAX_PEELS } from "../sizing/policy";
import { startDriftCorrection } from "../jetstream/reconcile";
import { status, type StatusReport } from "../jetstream/health";
import { resolveNatsServer } from "../local/nats-binary";
import { connectInfo, connectLines, writeConnectFiles } from "../local/connect";
import { connectCluster } from "../local/kv";
import { repoRoot } from "../local/repo-root";
import { down, isAlive, planUp, RefusedError, topologyOf, up, type UpOptions, type UpPlan } from "../local/runner";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./cli";
import { LocalSizingSchema, readState, writeState, type LocalSizing, type LocalState } from "../local/state";
import type { Prepared } from "../topology/prepare";
import { certificateExpiries } from "../local/certificates";
import { ensurePeelCreds, PeelRevoked, stackSeeds } from "../local/identities";
import { revokePeel, UnknownPeel } from "../local/revocation";
import { checkPeelId } from "../topology/auth";
import type { Topology } from "../topology/types";
import { planLocal, recover, runLocalTransition, TransitionFailed } from "../local/transition";
import { faultFromEnv } from "../local/transition-faults";
import { ChangeRefused } from "../change/change";
import { transitionOutput } from "../change/transition-output";

const USAGE = `Usage: npm run -s local -- <command> [flags]     (npm start = local up)

Runs the tier for N peels on this machine: one real nats-server process per planned server,
on loopback with free ports, data under a state directory. Resources are this machine's; the
shape (servers, leaf sites, region links, JetStream domains, KV replicas) is the tier's.

Commands:
  up          start (or restart, keeping the data), wait until healthy, reconcile the KV
              buckets, print the status; stays in the foreground correcting KV replica drift
              every minute until Ctrl-C, which stops every server through lame duck. Where
              another tier is up, moves it to --peels's tier instead (a tier transition: its
              steps run one by one, each waiting for what it names) and returns. A step that
              fails (or whose process is killed) leaves the fleet taking writes and exits 1;
              the same \`up --peels N\` resumes at that step
  transition  print the steps \`up --peels N\` would take from the running tier, doing nothing
  status      print the status of a running topology (and of a transition under way), with
              every certificate's expiry
  creds       issue a peel its own credentials (as its enrollment does; once: again prints the
              same file) and print the path of its .creds file
  revoke      revoke a peel's credentials: every server reloads, drops its connections and
              refuses it from then on
  down        stop every server through lame duck

Flags:
  --peels N            (up) how many peels: ${PEELS_ACCEPTED}; default 2000 (a 3-node cluster)
  --detach             (up) start, print the status and leave the servers running
  --sizing JSON        (up) regions and overrides, as zester:regions and zester:overrides, e.g.
                       '{"regions":[{"name":"region-0","replicate":[{"bucket":"secrets",
                       "to":"region-1"}]},{"name":"region-1"}]}' (cross-region replication,
                       docs/topology.md); kept in the state directory
  --nats-server PATH   (up) the nats-server binary; default: one on PATH, else Debian sid's
                       current build, fetched once into .cache/nats-server/
  --master-bin PATH    (up) a Zester master binary: one runs next to every core server, with
                       its rendered config (\`PATH --config master.yaml\`)
  --peel-bin PATH      (up) a Zester peel binary, run with its rendered peel config
  --peel-procs N       (up) how many peel processes, spread over leaf sites and regions
                       (default 1; needs --peel-bin)
  --peel ID            (creds, revoke) the peel's id: 1 to 64 letters, digits, "-" or "_"
  --reissue            (creds) new credentials (a new key) for a peel that was revoked
  --state-dir DIR      where data, configs and logs live; default .state/local
  --json               (status, transition, creds, revoke) print JSON instead of text
  --purge              (down) also remove the state directory and its data
  -h, --help           show this help

Exit status: 0 on success, 1 when the topology fails (or status finds it unhealthy), 2 on bad
input or a refused change (a transition that cannot be made safely, e.g. removing a region,
which holds its own peels' state; credentials for a revoked peel without --reissue).`;

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

/** `--sizing ENTRY: message` for each problem with the regions and overrides. */
const sizingProblems = (problems: Problem[]): UsageError =>
  new UsageError(problems.map((p) => `--sizing ${p.path.join(".")}: ${p.message}`).join("\n"));

/** `--sizing`: JSON of regions and overrides, checked as the stack config is (planned with the peels by `up`). */
function sizingFlag(value: string | boolean | undefined): LocalSizing | undefined {
  if (typeof value !== "string") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`--sizing: not JSON: ${value}`);
  }
  const result = LocalSizingSchema.safeParse(parsed);
  if (!result.success) throw sizingProblems(problemsOf(result.error));
  return result.data;
}

/** What `up` starts, planned once: a spec that cannot be planned is a problem with --sizing. */
function plannedUp(options: Parameters<typeof planUp>[0]): UpPlan {
  try {
    return planUp(options);
  } catch (error) {
    if (error instanceof SpecError) throw sizingProblems(error.problems);
    throw error;
  }
}

/** `--master-bin`, `--peel-bin` and `--peel-procs`: Zester run next to the servers. */
function zesterFlags(
  values: Record<string, string | boolean | undefined>,
): Pick<UpOptions, "masterBin" | "peelBin" | "peelProcs"> {
  const masterBin = executable(values["master-bin"], "--master-bin");
  const peelBin = executable(values["peel-bin"], "--peel-bin");
  const procs = values["peel-procs"];
  if (procs !== undefined && peelBin === undefined) throw new UsageError("--peel-procs needs --peel-bin");
  const peelProcs = wholeNumberFlag("peel-procs", typeof procs === "string" ? procs : "1", 1, 1_000);
  return {
    ...(masterBin === undefined ? {} : { masterBin }),
    ...(peelBin === undefined ? {} : { peelBin, peelProcs }),
  };
}

async function cmdUp(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<void> {
  const peels = wholeNumberFlag("peels", typeof values.peels === "string" ? values.peels : "2000", 0, MAX_PEELS);
  const existing = readState(stateDir);
  if (existing !== undefined && (existing.peels !== peels || existing.transition !== undefined)) {
    await moveTier(values, stateDir, existing, peels);
    return;
  }
  const detach = values.detach === true;
  const zester = zesterFlags(values);
  const sizing = sizingFlag(values.sizing);
  if (sizing !== undefined && existing !== undefined && JSON.stringify(sizing) !== JSON.stringify(existing.sizing))
    throw new UsageError(
      `--sizing: ${stateDir} already runs ${existing.sizing === undefined ? "the implied regions" : JSON.stringify(existing.sizing)}; changed regions rename servers. Use a new --state-dir, or \`down --purge\` first`,
    );
  const options = { peels, stateDir, ...(sizing === undefined ? {} : { sizing }) };
  const checked = plannedUp(options);
  // Every flag is checked before anything is fetched or started.
  const natsServer = resolveNatsServer(typeof values["nats-server"] === "string" ? values["nats-server"] : undefined);
  process.stdout.write(`nats-server ${natsServer.version} from ${natsServer.origin}\n`);
  const running = await up(
    {
      ...options,
      natsServer,
      detach,
      ...zester,
    },
    checked,
  );
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

/** `up --peels N` where another tier is up (or stopped): a tier transition. */
async function moveTier(
  values: Record<string, string | boolean | undefined>,
  stateDir: string,
  existing: NonNullable<ReturnType<typeof readState>>,
  peels: number,
): Promise<void> {
  if (values.sizing !== undefined)
    throw new UsageError(
      "--sizing: a tier transition plans the target tier from the peel count alone; set regions and overrides with `up` at a peel count the state directory already runs, or on a new state directory",
    );
  for (const flag of ["master-bin", "peel-bin", "peel-procs"])
    if (values[flag] !== undefined)
      throw new UsageError(
        `--${flag}: a tier transition keeps what runs; start Zester with \`up\` at a peel count the state directory already runs`,
      );
  if (typeof values["nats-server"] === "string" && path.resolve(values["nats-server"]) !== existing.natsServer.path)
    throw new UsageError(
      `--nats-server: a tier transition keeps the running nats-server (${existing.natsServer.path}); changing it is not part of one`,
    );
  if (process.env[WORKER_ENV] !== "1") {
    await superviseTransition(stateDir, peels);
    return;
  }
  process.stdout.write(`nats-server ${existing.natsServer.version} from ${existing.natsServer.origin}\n`);
  let running: Prepared | undefined;
  if (!existing.servers.some((s) => isAlive(s.pid, s.confPath))) {
    process.stdout.write(`starting the ${existing.tier} tier (${String(existing.peels)} peels) it holds first\n`);
    ({ prepared: running } = await up({
      peels: existing.peels,
      stateDir,
      natsServer: existing.natsServer,
      detach: true,
    }));
  }
  const moved = await runLocalTransition({
    stateDir,
    peels,
    ...optional("running", running),
    // The one test seam, read here at the edge (local/transition-faults.ts).
    ...optional("fault", faultFromEnv()),
    onStep: (step, done) =>
      process.stdout.write(
        done === undefined
          ? `${step.id} [${step.phase}] ${step.kind} ${step.servers.join(", ")}: ${step.description}\n`
          : `   done in ${(done.ms / 1000).toFixed(1)} s: ${done.result}\n`,
      ),
    onProgress: (line) => process.stdout.write(`   ${line}\n`),
  });
  print(moved.report, [
    "",
    `moved ${moved.transition.from.tier} (${String(moved.transition.from.peels)} peels) → ${moved.transition.to.tier} (${String(moved.transition.to.peels)} peels) in ${(moved.totalMs / 1000).toFixed(1)} s, ${String(moved.steps.length)} steps`,
    `State: ${stateDir}`,
    "",
    // The client URLs change when servers come and go: the connection files are written again.
    ...connectSection(moved.to, moved.state, stateDir),
  ]);
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

/** Set in the process that carries a transition out (the command that started it supervises it). */
const WORKER_ENV = "ZESTER_LOCAL_TRANSITION_WORKER";

/**
 * A transition runs in a process of its own, started and watched by this one: whatever ends it
 * (a failure it handles, a signal, SIGKILL included), this one makes sure the fleet takes writes
 * again before it exits, and says what failed and how to resume.
 */
async function superviseTransition(stateDir: string, peels: number): Promise<void> {
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot tell which script runs this command");
  const child = fork(script, process.argv.slice(2), { env: { ...process.env, [WORKER_ENV]: "1" }, stdio: "inherit" });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (c, s) => {
      resolve([c, s]);
    }),
  );
  if (code === 0) return;
  if (code !== null && code !== 1) throw new ExitWith(code);
  const state = readState(stateDir);
  if (state?.transition === undefined) throw new ExitWith(code ?? 1);
  // A failure the worker handled left the fleet safe and said so; one it could not (a signal) is handled here.
  if (signal === null && state.transition.hold === undefined) throw new ExitWith(code ?? 1);
  const step = state.transition.step ?? "(before its first step)";
  const planned = await planLocal(stateDir, peels);
  const safe = await recover(stateDir, planned, {
    step,
    error: `the process carrying the transition out (pid ${String(child.pid)}) ended${signal === null ? ` with status ${String(code)}` : ` by ${signal}`}`,
  });
  throw new TransitionFailed(
    step,
    new Error(`the transition process ended${signal === null ? "" : ` (${signal})`}`),
    safe,
    peels,
  );
}

/** Ends the command with a status, having said nothing more (the transition process said it). */
class ExitWith extends Error {
  constructor(readonly status: number) {
    super(`exit status ${String(status)}`);
  }
}

async function cmdTransition(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<number> {
  if (typeof values.peels !== "string") throw new UsageError("--peels: required: the peel count to move to");
  const peels = wholeNumberFlag("peels", values.peels, 0, MAX_PEELS);
  const { transition } = await planLocal(stateDir, peels);
  if (values.json === true)
    process.stdout.write(
      `${JSON.stringify({ ...transitionOutput(transition, null, null), refused: transition.refused }, null, 2)}\n`,
    );
  else {
    const lines = [
      `${transition.from.tier} (${String(transition.from.peels)} peels) → ${transition.to.tier} (${String(transition.to.peels)} peels)`,
      ...(transition.steps.length === 0 && transition.refused.length === 0 ? ["nothing to do: that tier runs"] : []),
      ...transition.steps.flatMap((s) => [
        `${s.id} [${s.phase}] ${s.kind} ${s.servers.join(", ")}${s.risks.length > 0 ? `  (risks: ${s.risks.join(", ")})` : ""}`,
        `    ${s.description}`,
        `    waits for: ${s.waitsFor}`,
      ]),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (transition.refused.length > 0) throw new ChangeRefused(transition.refused);
  return 0;
}

/** Where a transition under way is: its steps, the one under way or failed, what holds writes. */
async function transitionStatus(stateDir: string, state: LocalState) {
  const t = state.transition;
  if (t === undefined) return undefined;
  // Planning again can fail (a server's port taken meanwhile): the status still answers.
  const planned = await planLocal(stateDir, t.peels).catch(() => undefined);
  const steps =
    planned === undefined
      ? []
      : planned.transition.steps.map((s) => ({
          id: s.id,
          kind: s.kind,
          servers: s.servers,
          state: t.done.includes(s.id)
            ? "done"
            : t.step === s.id
              ? t.failed?.step === s.id
                ? "failed"
                : "under way"
              : "to do",
        }));
  return {
    from: { tier: state.tier, peels: state.peels },
    to: {
      peels: t.peels,
      tier: planned?.transition.to.tier ?? null,
    },
    step: t.step ?? null,
    running: t.pid !== undefined && isProcessAlive(t.pid),
    holds: t.hold ?? null,
    failed: t.failed ?? null,
    staging: t.staging,
    steps,
    resume: `npm run -s local -- up --peels ${String(t.peels)}`,
  };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cmdStatus(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<number> {
  const state = readState(stateDir);
  if (state === undefined) throw new UsageError(`nothing is up in ${stateDir}`);
  const topology = topologyOf(state);
  const report = await status(topology);
  const certificates = certificateExpiries(stateDir, topology);
  const transition = await transitionStatus(stateDir, state);
  if (values.json === true) {
    const connect = connectInfo(topology, stateDir);
    process.stdout.write(
      `${JSON.stringify({ ...report, natsServer: state.natsServer, stateDir, connect, certificates, transition: transition ?? null }, null, 2)}\n`,
    );
  } else {
    const alive = state.servers.filter((s) => isAlive(s.pid, s.confPath)).length;
    const lines =
      transition === undefined
        ? []
        : [
            "",
            `transition to ${String(transition.to.peels)} peels (${String(transition.to.tier)}): ${transition.running ? "under way" : transition.failed === null ? "stopped" : "failed"}${transition.step === null ? "" : `, step ${transition.step}`}`,
            ...transition.steps.map((s) => `  ${s.id} ${s.kind} ${s.servers.join(", ")}: ${s.state}`),
            ...(transition.holds === null ? [] : [`  writes held: ${JSON.stringify(transition.holds)}`]),
            ...(transition.failed === null
              ? []
              : [
                  `  failed at ${transition.failed.at}: ${transition.failed.error}`,
                  `  then: ${transition.failed.safe}`,
                ]),
            `  resume with: ${transition.resume}`,
          ];
    print(report, [
      ...lines,
      "",
      `${String(alive)} of ${String(state.servers.length)} server processes running; state: ${stateDir}`,
      "",
      "certificates (name  expires  days left):",
      ...certificates.map((c) => `  ${c.name}  ${c.notAfter}  ${String(c.daysLeft)}`),
      "",
      ...connectSection(topology, state, stateDir),
    ]);
  }
  return report.healthy && transition === undefined ? 0 : 1;
}

/** The state of a directory whose identities are complete (an `up` made them). */
function issuingState(stateDir: string): LocalState {
  const state = readState(stateDir);
  if (state === undefined) throw new UsageError(`nothing is up in ${stateDir}: \`up\` first`);
  try {
    stackSeeds(state);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  // The transition's process writes the state file as it goes: a peel issued meanwhile would be lost from it.
  if (state.transition?.pid !== undefined)
    throw new RefusedError(
      `a tier transition to ${String(state.transition.peels)} peels is being carried out (pid ${String(state.transition.pid)}): issue or revoke credentials once it is done`,
    );
  return state;
}

function peelFlag(values: Record<string, string | boolean | undefined>): string {
  if (typeof values.peel !== "string") throw new UsageError("--peel: required: the peel's id");
  try {
    return checkPeelId(values.peel);
  } catch (error) {
    throw new UsageError(`--peel: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `creds --peel ID`: the peel's credentials file, issued at the first ask. */
function cmdCreds(values: Record<string, string | boolean | undefined>, stateDir: string): number {
  const peel = peelFlag(values);
  const state = issuingState(stateDir);
  const issued = ensurePeelCreds(stateDir, state, peel, { reissue: values.reissue === true });
  if (issued.issued) writeState(stateDir, state);
  process.stdout.write(
    values.json === true ? `${JSON.stringify({ peel, credsFile: issued.credsFile })}\n` : `${issued.credsFile}\n`,
  );
  return 0;
}

/** `revoke --peel ID`: every server refuses the peel's credentials, and drops its connections. */
async function cmdRevoke(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<number> {
  const peel = peelFlag(values);
  issuingState(stateDir);
  const revoked = await revokePeel(stateDir, peel);
  process.stdout.write(
    values.json === true
      ? `${JSON.stringify({ peel, key: revoked.key, reloaded: revoked.reloaded })}\n`
      : `revoked peel ${peel} (key ${revoked.key}); reloaded ${revoked.reloaded.length > 0 ? revoked.reloaded.join(", ") : "no running server (the configs refuse it at the next up)"}\n`,
  );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const values = parseFlags(rest, {
    peels: { type: "string" },
    detach: { type: "boolean" },
    sizing: { type: "string" },
    "nats-server": { type: "string" },
    "master-bin": { type: "string" },
    "peel-bin": { type: "string" },
    "peel-procs": { type: "string" },
    "state-dir": { type: "string" },
    json: { type: "boolean" },
    peel: { type: "string" },
    reissue: { type: "boolean" },
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
      try {
        await cmdUp(values, stateDir);
        return 0;
      } catch (error) {
        if (error instanceof ExitWith) return error.status;
        throw error;
      }
    case "status":
      return cmdStatus(values, stateDir);
    case "transition":
      return cmdTransition(values, stateDir);
    case "creds":
      return cmdCreds(values, stateDir);
    case "revoke":
      return cmdRevoke(values, stateDir);
    case "down": {
      const stopped = await down(stateDir, { purge: values.purge === true });
      process.stdout.write(
        `stopped ${stopped.length} servers${values.purge === true ? `; removed ${stateDir}` : ""}\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; expected up, transition, status, creds, revoke or down`);
  }
}

runMain(
  "local",
  () => main(process.argv.slice(2)),
  (error) =>
    error instanceof RefusedError ||
    error instanceof ChangeRefused ||
    error instanceof PeelRevoked ||
    error instanceof UnknownPeel,
);
