/**
 * Acting on the server processes a local target started: signals (only to a pid that still runs
 * that server's config), a restart with the same config, a reconfiguration of every server, and
 * whether the tier is whole again.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { lackingRoute, ROUTE_WAIT_MS, status, waitHealthy } from "../jetstream/health";
import { reconcileLocal } from "../local/kv";
import { localConfInput } from "../local/server-auth";
import { isAlive, topologyOf } from "../local/runner";
import { readState, writeState, type LocalState, type ServerState } from "../local/state";
import { serializeNatsConf, type ConfBlock } from "../topology/render/nats-conf-format";
import { natsServerConfig, renderNatsServerConf, type NatsConfInput } from "../topology/render/nats-server-conf";
import { natsServerUnit } from "../topology/render/systemd";
import { coreUrls } from "./addresses";
import { connectNode } from "./connect";
import { operatorIdentity } from "./identity";
import type { TopologyServer } from "../topology/types";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function loadState(stateDir: string): LocalState {
  const state = readState(stateDir);
  if (state === undefined) throw new Error(`nothing is up in ${stateDir} (no state file)`);
  return state;
}

export function serverOf(state: LocalState, name: string): ServerState {
  const server = state.servers.find((s) => s.name === name);
  if (server === undefined) throw new Error(`no server "${name}" in this topology`);
  return server;
}

/** Signals a server, after checking that its pid still runs its config (never a reused pid). */
export function signalServer(stateDir: string, name: string, signal: NodeJS.Signals): void {
  const server = serverOf(loadState(stateDir), name);
  if (!isAlive(server.pid, server.confPath))
    throw new Error(`${name} is not running (pid ${String(server.pid)} does not run ${server.confPath})`);
  process.kill(server.pid, signal);
}

/** Waits until a server's process has exited; false if it still runs after `timeoutMs`. */
export async function waitExited(stateDir: string, name: string, timeoutMs: number): Promise<boolean> {
  const server = serverOf(loadState(stateDir), name);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(server.pid, server.confPath)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** A hard kill (SIGKILL), returning once the process is gone. */
export async function killServer(stateDir: string, name: string): Promise<void> {
  signalServer(stateDir, name, "SIGKILL");
  if (!(await waitExited(stateDir, name, 10_000))) throw new Error(`${name} outlived SIGKILL by 10 s`);
}

/** Starts a server that is not running again, with the config it had, and records its pid. */
export function startServer(stateDir: string, name: string): number {
  const state = loadState(stateDir);
  const server = serverOf(state, name);
  if (isAlive(server.pid, server.confPath)) throw new Error(`${name} is already running (pid ${String(server.pid)})`);
  const log = openSync(server.logPath, "a");
  const child = spawn(state.natsServer.path, ["-c", server.confPath], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`${name}: ${state.natsServer.path} did not start`);
  server.pid = child.pid;
  writeState(stateDir, state);
  return child.pid;
}

/** Resumes every server stopped with SIGSTOP (before any other signal could reach it). */
export function thawAll(stateDir: string): void {
  const state = readState(stateDir);
  for (const s of state?.servers ?? []) if (isAlive(s.pid, s.confPath)) process.kill(s.pid, "SIGCONT");
}

/** How long systemd waits before restarting a crashed nats-server: the rendered unit's RestartSec. */
export function restartDelayMs(state: LocalState): number {
  const unit = natsServerUnit(topologyOf(state).plan, 0);
  const match = /^RestartSec=(\d+)$/m.exec(unit);
  if (match?.[1] === undefined) throw new Error("the rendered nats-server unit has no RestartSec");
  return Number(match[1]) * 1000;
}

/**
 * Rewrites every server's config with `patch` applied to the rendered config data and restarts
 * the servers it changes one at a time (lame duck, start, then wait until the server is healthy
 * and every stream has current replicas again), as a config change is rolled out. Refuses when a config on
 * disk is not what this version renders for that state, so nothing the local target added is
 * dropped.
 */
export async function reconfigure(
  stateDir: string,
  why: string,
  patch: (conf: ConfBlock, server: TopologyServer) => void,
  healthTimeoutMs = 60_000,
  /**
   * How each server stops: lame duck (SIGUSR2) as a rollout does, or SIGTERM, where what is
   * measured comes after the restarts (nats-server waits ten seconds in lame duck even with no
   * clients; SIGTERM hands leadership over just as well).
   */
  stopSignal: "SIGUSR2" | "SIGTERM" = "SIGUSR2",
): Promise<void> {
  const state = loadState(stateDir);
  const topology = topologyOf(state);
  const inputs = state.servers.map((s): [ServerState, NatsConfInput] => [
    s,
    localConfInput(stateDir, state, topology, s.name),
  ]);
  for (const [s, input] of inputs)
    if (readFileSync(s.confPath, "utf8") !== renderNatsServerConf(input))
      throw new Error(
        `${s.confPath} is not the config this version renders for ${s.name}; it cannot be patched safely`,
      );
  const budget =
    (topology.plan.natsServer.lameDuckDurationSeconds + topology.plan.natsServer.lameDuckGracePeriodSeconds + 10) *
    1000;
  for (const [s, input] of inputs) {
    const header = [`nats-server.conf for ${s.name}, rendered by zester-infra and changed for ${why}.`];
    const conf = natsServerConfig(input);
    const before = serializeNatsConf(conf, header);
    const server = topology.servers.find((x) => x.name === s.name);
    if (server !== undefined) patch(conf, server);
    const after = serializeNatsConf(conf, header);
    // A server the patch leaves as it is keeps running: a restart would change nothing.
    if (after === before) continue;
    writeFileSync(s.confPath, after, { mode: 0o600 });
    if (isAlive(s.pid, s.confPath)) {
      process.kill(s.pid, stopSignal);
      if (!(await waitExited(stateDir, s.name, budget))) throw new Error(`${s.name} outlived its lame duck`);
    }
    await startMeshed(stateDir, topology, s, budget, healthTimeoutMs);
    // As `up` does: a memory-backed bucket (enroll-challenges) does not survive the restart of
    // a single server; in a cluster its other replicas keep it.
    const cluster = topology.clusters.find((c) => c.name === server?.cluster);
    if (cluster?.servers.length === 1) await reconcileLocal(topology, state);
    await waitStreamsWhole(stateDir, healthTimeoutMs);
  }
}

/**
 * Starts `s` and waits until the topology is healthy. A route that does not come back after a
 * restart is a known nats-server race (duplicate-route resolution dropping the reconnect; seen on
 * 2.9.10 under load, as the transitions' members' restarts meet it too): first the server just
 * started is restarted once more; if the route still lacking joins two servers that kept running
 * (CI, a supercluster's region-1: core-1 and core-4 routed to 3 of 4 peers after core-0's
 * restart, three times over), one end of it is restarted instead. At most twice in all.
 */
async function startMeshed(
  stateDir: string,
  topology: ReturnType<typeof topologyOf>,
  s: ServerState,
  budget: number,
  healthTimeoutMs: number,
): Promise<void> {
  startServer(stateDir, s.name);
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= 2;
    try {
      await waitHealthy(topology, last ? healthTimeoutMs : Math.min(ROUTE_WAIT_MS, healthTimeoutMs));
      return;
    } catch (error) {
      const lacking = lackingRoute(error);
      if (last || lacking === undefined) throw error;
      const victim = attempt === 0 ? s.name : lacking;
      const server = loadState(stateDir).servers.find((x) => x.name === victim);
      if (server === undefined) throw error;
      if (isAlive(server.pid, server.confPath)) {
        process.kill(server.pid, "SIGTERM");
        if (!(await waitExited(stateDir, victim, budget)))
          throw new Error(`${victim} outlived its stop`, { cause: error });
      }
      startServer(stateDir, victim);
    }
  }
}

/**
 * Waits until every planned stream of every region has a leader and current replicas: after a
 * restart the servers are healthy before their streams have elected leaders, and a write then
 * gets "no responders".
 */
export async function waitStreamsWhole(stateDir: string, timeoutMs: number): Promise<void> {
  const state = loadState(stateDir);
  const topology = topologyOf(state);
  const deadline = Date.now() + timeoutMs;
  for (const cluster of topology.clusters) {
    const domain = topology.servers.find((s) => s.cluster === cluster.name)?.domain;
    const nc = await connectNode({
      ...operatorIdentity(state),
      servers: coreUrls(topology, cluster.region),
      name: "zester-infra streams check",
      maxReconnectAttempts: -1,
    });
    try {
      for (const bucket of topology.plan.kv) {
        while (!(await streamWhole(nc, bucket.stream, domain))) {
          if (Date.now() > deadline)
            throw new Error(
              `${bucket.stream} in ${cluster.region} has no leader with current replicas after ${String(timeoutMs / 1000)} s`,
            );
          await sleep(100);
        }
      }
    } finally {
      await nc.close();
    }
  }
}

/** A JetStream manager for a domain that does not probe the API first (it may be settling). */
export function managerFor(nc: NatsConnection, domain: string | undefined): Promise<JetStreamManager> {
  return jetstreamManager(nc, { timeout: 2_000, checkAPI: false, ...(domain === undefined ? {} : { domain }) });
}

/** A stream's leader, as its cluster reports it; undefined while it has none. */
export async function streamLeader(
  nc: NatsConnection,
  stream: string,
  domain: string | undefined,
): Promise<string | undefined> {
  const jsm = await managerFor(nc, domain);
  const info = await jsm.streams.info(stream);
  const leader = info.cluster?.leader ?? "";
  return leader === "" ? undefined : leader;
}

/** A stream's replicas (leader first), by server name. */
export async function streamPeers(nc: NatsConnection, stream: string, domain: string | undefined): Promise<string[]> {
  const jsm = await managerFor(nc, domain);
  const info = await jsm.streams.info(stream);
  return [info.cluster?.leader ?? "", ...(info.cluster?.replicas ?? []).map((r) => r.name)].filter((n) => n !== "");
}

/** Has a leader and every replica is current (caught up, online). */
export async function streamWhole(nc: NatsConnection, stream: string, domain: string | undefined): Promise<boolean> {
  try {
    const jsm = await managerFor(nc, domain);
    const info = await jsm.streams.info(stream);
    const cluster = info.cluster;
    if (info.config.num_replicas <= 1) return true;
    const replicas = cluster?.replicas ?? [];
    return (
      (cluster?.leader ?? "") !== "" &&
      replicas.length === info.config.num_replicas - 1 &&
      replicas.every((r) => r.current && !r.offline)
    );
  } catch {
    return false;
  }
}

/** Every server healthy (routes, meta leader, leaf links) and every stream in `streams` whole. */
export async function tierWhole(
  stateDir: string,
  nc: (domain: string | undefined) => NatsConnection,
  streams: { domain: string | undefined; stream: string }[],
): Promise<boolean> {
  const report = await status(topologyOf(loadState(stateDir)));
  if (!report.healthy) return false;
  for (const s of streams) if (!(await streamWhole(nc(s.domain), s.stream, s.domain))) return false;
  return true;
}
