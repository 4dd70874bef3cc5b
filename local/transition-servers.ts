/**
 * The server processes a local transition starts, signals and stops, each recorded in the state
 * file before the next is touched (so `down` stops every one, by its pid, whatever happens next).
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectAdmin } from "../jetstream/connect";
import type { Topology } from "../topology/types";
import { clientAuth } from "./identities";
import { isAlive } from "./runner";
import { spawnServer, writeServerConf, type SpawnOptions } from "./spawn-server";
import { writeState, type Hold, type LocalState, type ServerState } from "./state";
import { waitReloaded } from "./transition-health";

/** A transition's view of the state directory: the state is written back after every change. */
export interface LocalRun {
  stateDir: string;
  state: LocalState;
}

export const serverDir = (run: LocalRun, name: string): string => path.join(run.stateDir, "servers", name);
export const storeDir = (run: LocalRun, name: string): string => path.join(serverDir(run, name), "jetstream");

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function serverState(run: LocalRun, name: string): ServerState | undefined {
  return run.state.servers.find((s) => s.name === name);
}

export function running(run: LocalRun, name: string): boolean {
  const s = serverState(run, name);
  return s !== undefined && isAlive(s.pid, s.confPath);
}

function record(run: LocalRun, entry: ServerState): void {
  run.state.servers = [...run.state.servers.filter((s) => s.name !== entry.name), entry];
  writeState(run.stateDir, run.state);
}

/** Drops a server that no longer runs from the state. */
export function forget(run: LocalRun, name: string): void {
  run.state.servers = run.state.servers.filter((s) => s.name !== name);
  writeState(run.stateDir, run.state);
}

/**
 * Starts `name` with `topology`'s config for it (it must not be running) and records its pid.
 * `keepDown` (a test's injected fault) records it as started without starting it.
 */
export function startServer(
  run: LocalRun,
  topology: Topology,
  name: string,
  options: SpawnOptions & { keepDown?: boolean } = {},
): void {
  if (running(run, name)) throw new Error(`${name} is already running`);
  // The servers outlive this process: `down` stops them.
  const entry = spawnServer(run.stateDir, run.state, topology, name, true, options, options.keepDown === true);
  if (entry.pid === undefined && options.keepDown !== true)
    throw new Error(`${name}: ${run.state.natsServer.path} did not start`);
  record(run, entry);
}

/** Records what must be undone or finished for writes to be taken again (undefined: nothing). */
export function setHold(run: LocalRun, hold: Hold | undefined): void {
  const transition = run.state.transition;
  if (transition === undefined) throw new Error("no transition under way to hold writes for");
  if (hold === undefined) delete transition.hold;
  else transition.hold = hold;
  writeState(run.stateDir, run.state);
}

/**
 * Stops `name` and waits until it has exited. `lame-duck` (SIGUSR2): leaders hand off and clients
 * move gradually, what every planned stop of a cluster member or leaf server does. `terminate`
 * (SIGTERM): for a single server, where lame duck buys nothing (JetStream stops at once, and no
 * other server takes the clients) but the grace period's wait. `hand-over`: a retired cluster's
 * servers, whose data was copied and whose writes are stopped, and whose clients must go to the
 * server that took over at once: SIGKILL, which closes their client ports and connections at once.
 * On SIGTERM a server takes connections while its JetStream shuts down, and a client that lands
 * there comes back only after its reconnect wait; in lame duck, it keeps them its grace period
 * (measured: 2–11 s of gap). Otherwise killed only if it outlives its budget.
 */
export async function stopServer(
  run: LocalRun,
  name: string,
  how: "lame-duck" | "terminate" | "hand-over",
  budgetMs: number,
): Promise<void> {
  const s = serverState(run, name);
  if (s === undefined || !isAlive(s.pid, s.confPath)) return;
  process.kill(s.pid, how === "lame-duck" ? "SIGUSR2" : how === "terminate" ? "SIGTERM" : "SIGKILL");
  const deadline = Date.now() + budgetMs;
  while (isAlive(s.pid, s.confPath) && Date.now() < deadline) await sleep(50);
  if (isAlive(s.pid, s.confPath)) process.kill(s.pid, "SIGKILL");
  while (isAlive(s.pid, s.confPath)) await sleep(20);
  record(run, { ...s, pid: undefined });
}

/** Rewrites `name`'s config and sends SIGHUP; waits until the server logs that it reloaded. */
export async function reloadServer(run: LocalRun, topology: Topology, name: string, timeoutMs: number): Promise<void> {
  const s = serverState(run, name);
  if (s === undefined || !isAlive(s.pid, s.confPath)) throw new Error(`${name} is not running; it cannot reload`);
  const since = existsSync(s.logPath) ? statSync(s.logPath).size : 0;
  writeServerConf(run.stateDir, run.state, topology, name);
  process.kill(s.pid, "SIGHUP");
  await waitReloaded(() => readFileSync(s.logPath, "utf8"), since, name, timeoutMs);
}

/** Where a server's store is set aside next (written down before it is moved). */
export const retiredPath = (run: LocalRun, name: string): string =>
  `${storeDir(run, name)}.retired-${String(Date.now())}`;

/** Moves a stopped server's JetStream store aside to `to` (kept until a delete-data step). */
export function retireStore(run: LocalRun, name: string, to = retiredPath(run, name)): string {
  if (running(run, name)) throw new Error(`${name} still runs; its store cannot be set aside`);
  const from = storeDir(run, name);
  if (existsSync(from)) renameSync(from, to);
  run.state.retired = [...run.state.retired.filter((dir) => dir !== to), to];
  writeState(run.stateDir, run.state);
  return to;
}

/** Puts a store set aside back in place of the server's current one (which is removed). */
export function reinstateStore(run: LocalRun, name: string, retired: string): void {
  if (running(run, name)) throw new Error(`${name} still runs; its store cannot be replaced`);
  const current = storeDir(run, name);
  rmSync(current, { recursive: true, force: true });
  renameSync(retired, current);
  run.state.retired = run.state.retired.filter((dir) => dir !== retired);
  writeState(run.stateDir, run.state);
}

/**
 * A provisioning connection in the app account (JetStream: the master identity, the only one that
 * may copy a stream's messages) or the system account (peer removal).
 */
export function connectTo(run: LocalRun, urls: string[], account: "app" | "system"): Promise<NatsConnection> {
  return connectAdmin(urls, clientAuth(run.state, account === "app" ? "master" : "system"));
}
