/**
 * One local nats-server: its config written under `<state>/servers/<name>/`, its process started
 * with its log there, and what the state file records of it. `up` starts every server this way,
 * a tier transition the ones it adds or restarts.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderNatsServerConf } from "../topology/render/nats-server-conf";
import { clientUrl, monitorUrl, type Topology } from "../topology/types";
import { localConfInput } from "./server-auth";
import type { LocalState, ServerState } from "./state";

type Rendering = Pick<LocalState, "auth" | "natsServer">;

/** Writes `name`'s config as `topology` renders it (its JetStream directory made first); returns its path. */
export function writeServerConf(stateDir: string, state: Rendering, topology: Topology, name: string): string {
  const input = localConfInput(stateDir, state, topology, name);
  mkdirSync(input.storeDir, { recursive: true, mode: 0o700 });
  const confPath = path.join(stateDir, "servers", name, "nats-server.conf");
  writeFileSync(confPath, renderNatsServerConf(input), { mode: 0o600 });
  return confPath;
}

/** Starts `name` with `topology`'s config; `detach`: it outlives this process (`down` stops it). */
export function spawnServer(
  stateDir: string,
  state: Rendering,
  topology: Topology,
  name: string,
  detach: boolean,
): ServerState {
  const s = topology.servers.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no server ${name} in the ${topology.tier} topology`);
  const confPath = writeServerConf(stateDir, state, topology, name);
  const logPath = path.join(stateDir, "servers", name, "nats-server.log");
  const log = openSync(logPath, "a");
  const child = spawn(state.natsServer.path, ["-c", confPath], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  if (detach) child.unref();
  return {
    name: s.name,
    role: s.role,
    region: s.region,
    ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
    ...(s.site === undefined ? {} : { site: s.site }),
    ...(child.pid === undefined ? {} : { pid: child.pid }),
    clientUrl: clientUrl(s),
    monitorUrl: monitorUrl(s),
    confPath,
    logPath,
  };
}
