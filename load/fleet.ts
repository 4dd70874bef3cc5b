/**
 * The fleet simulator: `peels` simulated peels, each a real NATS connection with a peel's
 * identity, spread over worker processes, against a running local topology. A simulated master
 * dispatches jobs and listens to heartbeats. Afterwards every acknowledged write is read back.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { status } from "../jetstream/health";
import { PEEL_KV, PEEL_SUBJECTS } from "../jetstream/zester-assumptions";
import { repoRoot } from "../local/repo-root";
import { topologyOf } from "../local/runner";
import type { LocalState } from "../local/state";
import type { Topology } from "../topology/types";
import { coreUrls, peelId } from "./addresses";
import { connectNode } from "./connect";
import { FromWorkerSchema, type FromWorker, type ToWorker } from "./fleet-protocol";
import { masterIdentity, operatorIdentity } from "./identity";
import { mergeLedgers, quantile, WriteLedger, type LedgerData } from "./ledger";
import { SimPeel } from "./peel";
import { countLost, type LossReport } from "./readback";
import { loadState } from "./servers";
import { modelMessagesPerSecond, type TrafficModel } from "./traffic";
import { sampleServers, type ServerLoad } from "./varz";

export interface FleetOptions {
  stateDir: string;
  peels: number;
  peelsPerProcess: number;
  durationSeconds: number;
  traffic: TrafficModel;
  /** Connections each worker opens at once while the fleet connects. @default 25 */
  connectConcurrency?: number;
  /** Runs after the traffic stopped and before the read-back (a test removes data here). */
  afterTraffic?: () => Promise<void>;
  log?: (line: string) => void;
}

export interface FleetReport {
  peels: number;
  durationSeconds: number;
  /** Peels connected when the steady phase ended. */
  connected: number;
  /** Acknowledged KV writes (enrollments, fact syncs, jobs, job returns). */
  acked: number;
  /** Acknowledged writes not found when read back. */
  lost: number;
  /** Writes never acknowledged (timeouts, refusals): not losses. */
  unacked: number;
  /** Publish-to-ack latency of the steady phase's KV writes (a timed-out write counts as the timeout). */
  p50Ms: number | null;
  p99Ms: number | null;
  servers: ServerLoad[];
  tier: string;
  natsServer: string;
  processes: number;
  /**
   * From the workers' start until every peel was connected and enrolled: each worker first
   * issues its peels' identities (`identitiesSeconds`, the slowest worker's), then connects them.
   */
  connectSeconds: number;
  identitiesSeconds: number;
  /** Messages the peels and the master published per second (heartbeats, KV writes, job dispatches). */
  messagesPerSecond: number;
  /** What the traffic model asks for; less was published when the simulator could not keep up. */
  modelMessagesPerSecond: number;
  /** KV writes acknowledged per second during the steady phase. */
  kvWritesPerSecond: number;
  /** The simulator's own CPU (all its processes) in percent of one core: on a shared machine it competes with the servers. */
  clientCpuPercent: number;
  heartbeatsReceived: number;
  /** Jobs the master dispatched, the job messages it sent (one per targeted peel), and those peels received. */
  jobs: { dispatched: number; messages: number; received: number };
  readBack: Omit<LossReport, "examples" | "lost">;
  connectFailures: Record<string, number>;
  failures: Record<string, number>;
  traffic: TrafficModel;
}

export class FleetError extends Error {}

/** The compiled worker: next to this file when running from dist/, else dist/'s copy. */
function workerScript(): string {
  const here = __filename.endsWith(".ts") ? path.join(repoRoot(), "dist", "load") : __dirname;
  const script = path.join(here, "fleet-worker.js");
  if (!existsSync(script)) throw new FleetError(`${script} is missing: run \`npm run build\``);
  return script;
}

class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (m: FromWorker) => void>();
  private stderr = "";
  private failure: Error | undefined;

  constructor(script: string) {
    this.child = fork(script, [], { execArgv: [], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    this.child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4_000)));
    this.child.on("message", (raw) => {
      const parsed = FromWorkerSchema.safeParse(raw);
      const message: FromWorker = parsed.success
        ? parsed.data
        : { type: "error", message: `unexpected message from a worker: ${parsed.error.message}` };
      if (message.type === "error") this.fail(new FleetError(`a fleet worker failed: ${message.message}`));
      else this.waiting.get(message.type)?.(message);
    });
    this.child.on("exit", (code) => {
      if (code !== 0) this.fail(new FleetError(`a fleet worker exited with ${String(code)}: ${this.stderr}`));
    });
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const resolve of this.waiting.values()) resolve({ type: "error", message: error.message });
  }

  send(message: ToWorker): void {
    this.child.send(message);
  }

  /** The next message of `type`; rejects if the worker fails first. */
  next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.waiting.set(type, (m) => {
        this.waiting.delete(type);
        if (m.type === "error") reject(this.failure ?? new FleetError(m.message));
        else resolve(m as Extract<FromWorker, { type: T }>);
      });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.send({ type: "close" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The master: dispatches jobs (a `jobs` entry, then a message to each target) and counts heartbeats. */
class Master {
  readonly ledger = new WriteLedger();
  heartbeats = 0;
  dispatched = 0;
  messages = 0;
  published = 0;
  /** The master's connection: the same simulated client as a peel's, with the master's identity and settings. */
  private readonly client: SimPeel;

  constructor(
    state: LocalState,
    t: Topology,
    private readonly traffic: TrafficModel,
    private readonly peels: number,
  ) {
    const region = t.clusters[0]?.region ?? "";
    const domain = t.servers.find((s) => s.role === "core" && s.region === region)?.domain;
    this.client = new SimPeel(
      "master-sim",
      { region, servers: coreUrls(t, region), ...(domain === undefined ? {} : { domain }) },
      masterIdentity(state),
      t.plan.client.master,
      this.ledger,
      { writeTimeoutMs: traffic.writeTimeoutMs },
    );
  }

  async connect(): Promise<void> {
    await this.client.connect();
    this.client.subscribe(PEEL_SUBJECTS.heartbeats, () => {
      this.heartbeats++;
    });
  }

  async dispatch(job: string): Promise<void> {
    const targets = Math.max(1, Math.round(this.peels * this.traffic.jobTargetShare));
    this.published++;
    if (!(await this.client.put(PEEL_KV.jobs.bucket, PEEL_KV.jobs.key(job), this.traffic.jobBytes))) return;
    const chosen = new Set<number>();
    while (chosen.size < Math.min(targets, this.peels)) chosen.add(1 + Math.floor(Math.random() * this.peels));
    for (const i of chosen) this.client.publishData(PEEL_SUBJECTS.job(peelId(i)), job);
    this.published += chosen.size;
    this.dispatched++;
    this.messages += chosen.size;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Refuses a topology that is not healthy: a fleet against it would measure the fault, not the load. */
async function refuseUnhealthy(topology: Topology, stateDir: string): Promise<void> {
  const health = await status(topology);
  if (!health.healthy)
    throw new FleetError(
      `the topology in ${stateDir} is not healthy (${health.servers
        .filter((s) => !s.healthy)
        .map((s) => `${s.name}: ${String(s.problem)}`)
        .join("; ")})`,
    );
}

/** Starts the worker processes; resolves once every peel is connected and enrolled (or failed to). */
async function connectFleet(
  options: FleetOptions,
  workers: WorkerProcess[],
): Promise<{ seconds: number; identitiesSeconds: number; connected: number; failures: Record<string, number> }> {
  const script = workerScript();
  const started = performance.now();
  const ready: Promise<Extract<FromWorker, { type: "ready" }>>[] = [];
  for (let first = 1; first <= options.peels; first += options.peelsPerProcess) {
    const worker = new WorkerProcess(script);
    workers.push(worker);
    ready.push(worker.next("ready"));
    worker.send({
      type: "start",
      stateDir: options.stateDir,
      first,
      count: Math.min(options.peelsPerProcess, options.peels - first + 1),
      traffic: options.traffic,
      connectConcurrency: options.connectConcurrency ?? 25,
    });
  }
  const readies = await Promise.all(ready);
  const failures: Record<string, number> = {};
  for (const r of readies) for (const [k, n] of Object.entries(r.connectFailures)) failures[k] = (failures[k] ?? 0) + n;
  return {
    seconds: (performance.now() - started) / 1000,
    identitiesSeconds: Math.max(0, ...readies.map((r) => r.issueMs)) / 1000,
    connected: readies.reduce((n, r) => n + r.connected, 0),
    failures,
  };
}

/** The steady phase: every worker runs the traffic model while the master dispatches jobs and /varz is sampled. */
async function steadyPhase(
  options: FleetOptions,
  workers: WorkerProcess[],
  master: Master,
  servers: LocalState["servers"],
): Promise<{
  results: Extract<FromWorker, { type: "done" }>[];
  servers: ServerLoad[];
  cpuMs: number;
  heartbeats: number;
}> {
  const durationMs = options.durationSeconds * 1000;
  const startAt = Date.now() + 500;
  const done = workers.map((w) => w.next("done"));
  for (const w of workers) w.send({ type: "go", startAt, durationMs });
  const sampler = sampleServers(servers);
  await sleep(startAt - Date.now());
  const heartbeatsBefore = master.heartbeats;
  const cpuBefore = process.cpuUsage();
  const dispatches: Promise<void>[] = [];
  const jobTimer = setInterval(() => {
    dispatches.push(master.dispatch(`sim-job-${String(Date.now())}-${String(dispatches.length + 1)}`));
  }, options.traffic.jobIntervalMs);
  await sleep(durationMs);
  clearInterval(jobTimer);
  await Promise.all(dispatches);
  const results = await Promise.all(done);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    results,
    servers: await sampler.stop(),
    cpuMs: (cpu.user + cpu.system) / 1000,
    heartbeats: master.heartbeats - heartbeatsBefore,
  };
}

/** Reads every acknowledged write back, through one connection per region's core. */
async function readBack(state: LocalState, topology: Topology, ledger: LedgerData): Promise<LossReport> {
  const byDomain = new Map<string | undefined, NatsConnection>();
  try {
    for (const cluster of topology.clusters) {
      const domain = topology.servers.find((s) => s.cluster === cluster.name)?.domain;
      byDomain.set(
        domain,
        await connectNode({
          ...operatorIdentity(state),
          servers: coreUrls(topology, cluster.region),
          name: "zester-infra fleet read-back",
        }),
      );
    }
    return await countLost(ledger.acked, (domain) => {
      const nc = byDomain.get(domain) ?? [...byDomain.values()][0];
      if (nc === undefined) throw new FleetError("no core cluster to read back from");
      return nc;
    });
  } finally {
    await Promise.all([...byDomain.values()].map((nc) => nc.close().catch(() => undefined)));
  }
}

const tenths = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n * 10) / 10);
const sum = <T>(xs: T[], f: (x: T) => number): number => xs.reduce((n, x) => n + f(x), 0);

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const log = options.log ?? (() => undefined);
  const state = loadState(options.stateDir);
  const topology = topologyOf(state);
  await refuseUnhealthy(topology, options.stateDir);
  const workers: WorkerProcess[] = [];
  const master = new Master(state, topology, options.traffic, options.peels);
  try {
    await master.connect();
    log(`connecting ${String(options.peels)} peels, ${String(options.peelsPerProcess)} per process`);
    const connect = await connectFleet(options, workers);
    log(
      `${String(connect.connected)} peels connected and enrolled in ${connect.seconds.toFixed(1)} s (their identities issued in ${connect.identitiesSeconds.toFixed(1)} s)`,
    );
    const steady = await steadyPhase(options, workers, master, state.servers);
    const ledger = mergeLedgers([...steady.results.map((r) => r.ledger), master.ledger.data()]);
    await options.afterTraffic?.();
    log(`reading back ${String(ledger.acked.length)} acknowledged writes`);
    const { examples, lost, ...readBackCounts } = await readBack(state, topology, ledger);
    if (examples.length > 0) log(`lost, e.g.: ${JSON.stringify(examples.slice(0, 3))}`);
    const seconds = options.durationSeconds;
    const results = steady.results;
    return {
      peels: options.peels,
      durationSeconds: seconds,
      connected: sum(results, (r) => r.connected),
      acked: ledger.acked.length,
      lost,
      unacked: ledger.unacked,
      p50Ms: tenths(quantile(ledger.latenciesMs, 0.5)),
      p99Ms: tenths(quantile(ledger.latenciesMs, 0.99)),
      servers: steady.servers,
      tier: state.tier,
      natsServer: state.natsServer.version,
      processes: workers.length,
      connectSeconds: tenths(connect.seconds) ?? 0,
      identitiesSeconds: tenths(connect.identitiesSeconds) ?? 0,
      messagesPerSecond: Math.round((sum(results, (r) => r.published) + master.published) / seconds),
      modelMessagesPerSecond: Math.round(modelMessagesPerSecond(options.traffic, options.peels)),
      // The master writes only in the steady phase.
      kvWritesPerSecond: Math.round((sum(results, (r) => r.steadyAcked) + master.ledger.acked.length) / seconds),
      clientCpuPercent: Math.round(((sum(results, (r) => r.cpuMs) + steady.cpuMs) / (seconds * 1000)) * 100),
      heartbeatsReceived: steady.heartbeats,
      jobs: { dispatched: master.dispatched, messages: master.messages, received: sum(results, (r) => r.jobsReceived) },
      readBack: readBackCounts,
      connectFailures: connect.failures,
      failures: ledger.failures,
      traffic: options.traffic,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await master.close();
  }
}
