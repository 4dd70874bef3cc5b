/**
 * The embedded local target: the tier's topology as real nats-server processes on loopback.
 * Resources are this machine's; the shape (servers, leaf sites, region links, domains,
 * replicas) is the tier's.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { formedShort, ROUTE_WAIT_MS, status, waitHealthy, type StatusReport } from "../jetstream/health";
import type { BucketChange } from "../jetstream/reconcile";
import type { SizingSpecInput } from "../sizing";
import { planned, prepare, type Planned, type Prepared } from "../topology/prepare";
import { masterConfig, peelConfig, ZESTER_CONFIG_FLAG } from "../topology/render/zester-config";
import type { Addressing, Topology, ZesterKind } from "../topology/types";
import { addressBookOf } from "./address-book";
import { PORTS_PER_SERVER } from "./addressing";
import { reconcileLocal } from "./kv";
import type { NatsServerBinary } from "./nats-binary";
import { freePorts } from "./ports";
import { ensureCertificates, caFile } from "./certificates";
import {
  completeSeeds,
  credsFile,
  ensurePeelCreds,
  peelIssuerFile,
  predatesIdentities,
  writeRoleCreds,
} from "./identities";
import { spawnServer } from "./spawn-server";
import { readState, writeState, type LocalSizing, type LocalState, type ZesterProcess } from "./state";
import { LOCAL, localAddressing } from "./target";

export interface UpOptions {
  peels: number;
  stateDir: string;
  natsServer: NatsServerBinary;
  /** A Zester master binary, run next to every core server with its rendered config. */
  masterBin?: string;
  /** A Zester peel binary, run `peelProcs` times, spread over the leaf sites and regions. */
  peelBin?: string;
  /** @default 1 when peelBin is given */
  peelProcs?: number;
  /**
   * Regions (with what each replicates to another) and overrides, as the stack config's
   * `zester:regions` and `zester:overrides`. Kept in the state directory.
   * @default what a stopped state directory holds, else implied from the peels
   */
  sizing?: LocalSizing;
  /** Leave the servers running when this process exits. */
  detach?: boolean;
  healthTimeoutMs?: number;
}

export interface Running {
  state: LocalState;
  /** What was started, prepared once: a transition from it takes this instead of preparing it again. */
  prepared: Prepared;
  topology: Topology;
  report: StatusReport;
  /** What the KV reconcile changed, per region. */
  kvChanges: Record<string, BucketChange[]>;
  /** Milliseconds from the first spawn until every server was healthy, and for the KV reconcile. */
  timings: { healthyMs: number; kvMs: number };
}

export class LocalTargetError extends Error {}
/** An `up` that would lose data or clash with what runs: refused before anything starts. */
export class RefusedError extends LocalTargetError {}

/** The spec a state directory was started with: its peels, and the regions and overrides it declared. */
export const specOf = (state: Pick<LocalState, "peels" | "sizing">): SizingSpecInput => ({
  peels: state.peels,
  ...state.sizing,
});

/** Where a state directory's servers listen: their ports by name, or (a state file from before the book) in build order. */
const addressingOf = (state: Pick<LocalState, "ports" | "addresses">): Addressing =>
  localAddressing(
    state.addresses === undefined ? { freePorts: state.ports } : { addresses: state.addresses, freePorts: [] },
  );

/** What a state directory runs, prepared once: its spec planned, its topology on its ports. */
export function preparedOf(state: Pick<LocalState, "peels" | "ports" | "addresses" | "sizing">): Prepared {
  return prepare(planned(specOf(state)), addressingOf(state));
}

/** Rebuilds the topology a state directory runs (same ports, same names). */
export function topologyOf(state: Pick<LocalState, "peels" | "ports" | "addresses" | "sizing">): Topology {
  return preparedOf(state).topology;
}

export function isAlive(pid: number | undefined, confPath: string): pid is number {
  if (pid === undefined) return false;
  try {
    // Only a process that runs this very config is ours: a reused pid is left alone.
    return readFileSync(`/proc/${String(pid)}/cmdline`, "utf8")
      .split("\0")
      .includes(confPath);
  } catch {
    return false;
  }
}

/** What `up` starts, decided before anything is fetched or started. */
export interface UpPlan {
  /** What the state directory holds, if anything. */
  existing?: LocalState;
  /** The regions and overrides declared: given, else the ones the directory was started with. */
  declared?: LocalSizing;
  /** The spec, planned once. */
  planned: Planned;
}

/**
 * The spec `up` starts, planned once; RefusedError when the state directory holds another tier
 * (another tier is reached by a transition: transition.ts), SpecError naming the entry when the
 * sizing cannot be planned. Nothing is read but the state file.
 */
export function planUp(options: Pick<UpOptions, "peels" | "stateDir" | "sizing">): UpPlan {
  const existing = readState(options.stateDir);
  const declared = options.sizing ?? existing?.sizing;
  const next = planned({ peels: options.peels, ...declared });
  if (
    existing !== undefined &&
    (next.plan.tier !== existing.tier || next.plan.totalServers !== existing.servers.length)
  )
    throw new RefusedError(
      `the state directory holds the ${existing.tier} tier (${existing.peels} peels, ${existing.servers.length} servers); ${options.peels} peels plan ${next.plan.tier} (${next.plan.totalServers} servers). ` +
        `Start it at ${existing.peels} peels, then \`up --peels ${options.peels}\` on the running tier moves it (a tier transition, which keeps the data), or run \`down --purge\` to start over.`,
    );
  return {
    ...(existing === undefined ? {} : { existing }),
    ...(declared === undefined ? {} : { declared }),
    planned: next,
  };
}

/** Starts the tier `checked` planned (by default planned here from `options`). */
export async function up(options: UpOptions, checked: UpPlan = planUp(options)): Promise<Running> {
  const { stateDir, natsServer } = options;
  const { existing, declared, planned: wanted } = checked;
  const sizing = wanted.plan;
  if (existing !== undefined) {
    const alive = existing.servers.filter((s) => isAlive(s.pid, s.confPath));
    if (alive.length > 0)
      throw new RefusedError(`already up (${alive.map((s) => s.name).join(", ")}); run \`status\` or \`down\``);
  }
  const ports = existing?.ports ?? (await freePorts(sizing.totalServers * PORTS_PER_SERVER));
  const prepared = prepare(wanted, addressingOf({ ports, addresses: existing?.addresses }));
  const { topology } = prepared;
  // The accounts are named by their keys now: a running tier's buckets (in the account ZESTER) would be left behind.
  if (existing !== undefined && predatesIdentities(existing) && existsSync(path.join(stateDir, "servers")))
    throw new RefusedError(
      `${stateDir} was made before per-peel identities: its servers keep their KV buckets and job-events in the account ZESTER, which the servers now name by its key, so \`up\` would leave them behind. \`down --purge\` and \`up\` again to start afresh (back up the streams first if you need them, e.g. \`nats stream backup\` with the version that made it)`,
    );
  const seeds = completeSeeds(existing?.auth.seeds);
  writeRoleCreds(stateDir, seeds);
  const auth: LocalState["auth"] = {
    seeds,
    ca: await ensureCertificates(stateDir, topology, LOCAL.reachedBy()),
    peels: existing?.auth.peels ?? {},
    revoked: existing?.auth.revoked ?? {},
  };

  const servers: LocalState["servers"] = [];
  const spawnedAt = performance.now();
  for (const s of topology.servers)
    servers.push(spawnServer(stateDir, { auth, natsServer }, topology, s.name, options.detach === true));
  const state: LocalState = {
    peels: options.peels,
    ...(declared === undefined ? {} : { sizing: declared }),
    tier: sizing.tier,
    serversPerCluster: sizing.serversPerCluster,
    natsServer,
    auth,
    servers,
    ports,
    addresses: addressBookOf(topology),
    retired: existing?.retired ?? [],
    zester: [],
  };
  writeState(stateDir, state);
  try {
    await bootHealthy(stateDir, state, topology, existing === undefined, options);
    const healthyAt = performance.now();
    const kvChanges = await reconcileLocal(topology, state);
    const timings = { healthyMs: healthyAt - spawnedAt, kvMs: performance.now() - healthyAt };
    // Zester starts once its buckets exist at the planned replicas.
    state.zester = startZester(topology, stateDir, state, options);
    writeState(stateDir, state);
    return { state, prepared, topology, report: await status(topology), kvChanges, timings };
  } catch (error) {
    const logs = servers
      .filter((s) => !isAlive(s.pid, s.confPath))
      .map((s) => `--- ${s.name} exited; end of ${s.logPath}:\n${tail(s.logPath)}`);
    await down(stateDir);
    throw new LocalTargetError(
      `${error instanceof Error ? error.message : String(error)}${logs.length > 0 ? `\n${logs.join("\n")}` : ""}`,
    );
  }
}

/**
 * Waits until the servers just started are healthy. The servers of a new cluster can settle short
 * of their plan (nats-server's route races; seen as "meta group of 3, planned 5" on 2.10.27 with
 * nothing else running): a tier that holds no data yet (a first `up`), still so after
 * ROUTE_WAIT_MS, is started once more from empty stores. A tier with data is never touched here.
 */
async function bootHealthy(
  stateDir: string,
  state: LocalState,
  topology: Topology,
  fresh: boolean,
  options: UpOptions,
): Promise<void> {
  const timeoutMs = options.healthTimeoutMs ?? 60_000;
  if (!fresh || topology.clusters.every((c) => c.servers.length === 1)) {
    await waitHealthy(topology, timeoutMs);
    return;
  }
  try {
    await waitHealthy(topology, Math.min(ROUTE_WAIT_MS, timeoutMs));
    return;
  } catch (error) {
    if (!formedShort(error)) throw error;
    process.stderr.write(
      `the new servers formed short of the plan; starting them again from empty stores:\n${String(error)}\n`,
    );
  }
  for (const s of state.servers) if (isAlive(s.pid, s.confPath)) process.kill(s.pid, "SIGKILL");
  const deadline = Date.now() + 10_000;
  while (state.servers.some((s) => isAlive(s.pid, s.confPath))) {
    if (Date.now() > deadline) throw new Error("the new servers did not exit after SIGKILL");
    await new Promise((r) => setTimeout(r, 50));
  }
  // In place: the caller's list of what it started is this one.
  state.servers.forEach((s, i) => {
    rmSync(path.join(stateDir, "servers", s.name, "jetstream"), { recursive: true, force: true });
    const rendering = { auth: state.auth, natsServer: state.natsServer };
    state.servers[i] = spawnServer(stateDir, rendering, topology, s.name, options.detach === true);
  });
  writeState(stateDir, state);
  await waitHealthy(topology, timeoutMs);
}

/** Where the peels of a topology connect: each leaf site, else each region's core. */
export function peelHomes(t: Topology): { region: string; site?: string }[] {
  const homes: { region: string; site?: string }[] = t.leafSites.map((s) => ({ region: s.region, site: s.name }));
  for (const c of t.clusters) if (!t.leafSites.some((s) => s.region === c.region)) homes.push({ region: c.region });
  return homes;
}

function startZester(t: Topology, stateDir: string, state: LocalState, options: UpOptions): ZesterProcess[] {
  const master = {
    credsFile: credsFile(stateDir, "master"),
    caFile: caFile(stateDir),
    peelIssuerFile: peelIssuerFile(stateDir),
  };
  const jobs: { name: string; kind: ZesterKind; bin: string; config: string }[] = [];
  if (options.masterBin !== undefined) {
    for (const s of t.servers.filter((x) => x.role === "core"))
      jobs.push({
        name: `master-${s.name}`,
        kind: "master",
        bin: options.masterBin,
        config: masterConfig(t, s.name, master),
      });
  }
  if (options.peelBin !== undefined) {
    const homes = peelHomes(t);
    for (let i = 0; i < (options.peelProcs ?? 1); i++) {
      const home = homes[i % homes.length] ?? { region: t.clusters[0]?.region ?? "" };
      // Each peel process its own identity, issued as at its enrollment.
      const id = `peel-${String(i)}`;
      const peel = { credsFile: ensurePeelCreds(stateDir, state, id).credsFile, caFile: caFile(stateDir) };
      jobs.push({ name: id, kind: "peel", bin: options.peelBin, config: peelConfig(t, home, peel, undefined, id) });
    }
  }
  return jobs.map((job) => {
    const dir = path.join(stateDir, "zester", job.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const configPath = path.join(dir, `${job.kind}.yaml`);
    const logPath = path.join(dir, `${job.kind}.log`);
    writeFileSync(configPath, job.config, { mode: 0o600 });
    const log = openSync(logPath, "a");
    const child = spawn(job.bin, [ZESTER_CONFIG_FLAG, configPath], { detached: true, stdio: ["ignore", log, log] });
    closeSync(log);
    if (options.detach === true) child.unref();
    return {
      name: job.name,
      kind: job.kind,
      ...(child.pid === undefined ? {} : { pid: child.pid }),
      configPath,
      logPath,
    };
  });
}

function tail(file: string, lines = 8): string {
  return existsSync(file) ? readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no log)";
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stops every server through lame duck (SIGUSR2: leaders hand off first, clients are moved
 * gradually), waits for it to exit, and only kills one that outlives its lame-duck time.
 */
export async function down(stateDir: string, options: { purge?: boolean } = {}): Promise<string[]> {
  const state = readState(stateDir);
  const stopped: string[] = [];
  if (state !== undefined) {
    const sizing = planned(specOf(state)).plan;
    // Zester first (SIGTERM: clients drain), then the servers they talk to.
    const zester = state.zester.filter((z) => isAlive(z.pid, z.configPath));
    for (const z of zester) if (z.pid !== undefined) process.kill(z.pid, "SIGTERM");
    const drainBy = Date.now() + (sizing.client.master.drainTimeoutSeconds + 5) * 1000;
    while (zester.some((z) => isAlive(z.pid, z.configPath)) && Date.now() < drainBy) await sleep(50);
    for (const z of zester) if (isAlive(z.pid, z.configPath)) process.kill(z.pid, "SIGKILL");
    const budget =
      (sizing.natsServer.lameDuckDurationSeconds + sizing.natsServer.lameDuckGracePeriodSeconds + 10) * 1000;
    const running = state.servers.filter((s) => isAlive(s.pid, s.confPath));
    for (const s of running) if (s.pid !== undefined) process.kill(s.pid, "SIGUSR2");
    const deadline = Date.now() + budget;
    while (running.some((s) => isAlive(s.pid, s.confPath)) && Date.now() < deadline) await sleep(50);
    for (const s of running) {
      if (isAlive(s.pid, s.confPath)) process.kill(s.pid, "SIGKILL");
      stopped.push(s.name);
    }
    writeState(stateDir, { ...state, servers: state.servers.map((s) => ({ ...s, pid: undefined })), zester: [] });
  }
  if (options.purge === true) rmSync(stateDir, { recursive: true, force: true });
  return stopped;
}
