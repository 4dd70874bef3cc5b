/**
 * One local nats-server: its config written under `<state>/servers/<name>/`, its process started
 * with its log there, and what the state file records of it. `up` starts every server this way,
 * a tier transition the ones it adds or restarts.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { serializeNatsConf } from "../topology/render/nats-conf-format";
import { natsServerConfig, renderNatsServerConf, type NatsConfInput } from "../topology/render/nats-server-conf";
import { clientUrl, monitorUrl, type Topology } from "../topology/types";
import { localConfInput } from "./server-auth";
import type { LocalState, ServerState } from "./state";

type Rendering = Pick<LocalState, "auth" | "natsServer">;

export interface SpawnOptions {
  /**
   * A server a copy fills before it takes any client: JetStream syncs at its default interval, not
   * on every write (a restore on 2.14+ stores message by message; with `sync_interval: always`
   * each is an fsync). It is restarted with its own config before it takes writes; its data lives
   * on in the copy's source until then.
   */
  bulkLoad?: boolean;
}

/** Writes `name`'s config as `topology` renders it (its JetStream directory made first); returns its path. */
export function writeServerConf(
  stateDir: string,
  state: Rendering,
  topology: Topology,
  name: string,
  options: SpawnOptions = {},
): string {
  const input = localConfInput(stateDir, state, topology, name);
  mkdirSync(input.storeDir, { recursive: true, mode: 0o700 });
  const confPath = path.join(stateDir, "servers", name, "nats-server.conf");
  writeFileSync(confPath, options.bulkLoad === true ? bulkLoadConf(input) : renderNatsServerConf(input), {
    mode: 0o600,
  });
  return confPath;
}

function bulkLoadConf(input: NatsConfInput): string {
  const config = natsServerConfig(input);
  const jetstream = config.jetstream;
  if (typeof jetstream === "object" && !Array.isArray(jetstream)) delete jetstream.sync_interval;
  return serializeNatsConf(config, [
    `nats-server.conf for ${input.server} (${input.topology.tier} tier) while a copy fills it, rendered by zester-infra for nats-server ${input.version}.`,
  ]);
}

/** Starts `name` with `topology`'s config; `detach`: it outlives this process (`down` stops it). */
export function spawnServer(
  stateDir: string,
  state: Rendering,
  topology: Topology,
  name: string,
  detach: boolean,
  options: SpawnOptions = {},
  /** Write its config and record it, but start nothing (a test keeping a server down). */
  dryRun = false,
): ServerState {
  const s = topology.servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no server ${name} in the ${topology.tier} topology`);
  const confPath = writeServerConf(stateDir, state, topology, name, options);
  const logPath = path.join(stateDir, "servers", name, "nats-server.log");
  const pid = dryRun ? undefined : start(state.natsServer.path, confPath, logPath, detach);
  return {
    name: s.name,
    role: s.role,
    region: s.region,
    ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
    ...(s.site === undefined ? {} : { site: s.site }),
    ...(pid === undefined ? {} : { pid, startedAt: Date.now() }),
    clientUrl: clientUrl(s),
    monitorUrl: monitorUrl(s),
    confPath,
    logPath,
  };
}

function start(binary: string, confPath: string, logPath: string, detach: boolean): number | undefined {
  const log = openSync(logPath, "a");
  const child = spawn(binary, ["-c", confPath], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  if (detach) child.unref();
  return child.pid;
}
