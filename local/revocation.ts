/**
 * Revoking a peel on the local target: its key goes into the peels' account's revocations, every
 * server's config is written again with that account's new JWT, and every running server reloads
 * (SIGHUP): a server applies every preloaded account again on a reload and closes the revoked
 * peel's connections, and refuses its credentials from then on (nats-server 2.9.10 and the
 * current release alike; test/local/attacks.ts). No restart, no other client disturbed.
 */
import { z } from "zod";
import { getMonitoring } from "../jetstream/health";
import { monitorUrl } from "../topology/types";
import { checkPeelId } from "../topology/auth";
import { isAlive, RefusedError, topologyOf } from "./runner";
import { writeServerConf } from "./spawn-server";
import { readState, writeState } from "./state";

export class UnknownPeel extends Error {}

const VarzSchema = z.object({ config_load_time: z.string() });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Revokes `peel`'s credentials on every server of the state directory; resolves once every
 * running server has loaded the config that refuses them. Returns the key revoked and the servers
 * reloaded.
 */
export async function revokePeel(
  stateDir: string,
  peel: string,
  options: { now?: number; timeoutMs?: number } = {},
): Promise<{ key: string; reloaded: string[] }> {
  checkPeelId(peel);
  const state = readState(stateDir);
  if (state === undefined) throw new UnknownPeel(`nothing is up in ${stateDir}`);
  const issued = state.auth.peels[peel];
  if (issued === undefined) throw new UnknownPeel(`peel ${peel} was never issued credentials in ${stateDir}`);
  // Mid-transition the servers run two tiers' configs (and the transition's process rewrites the
  // state file): one tier's configs written over them would undo the other's.
  if (state.transition !== undefined)
    throw new RefusedError(
      `a tier transition to ${String(state.transition.peels)} peels is under way in ${stateDir}: finish it first (\`up --peels ${String(state.transition.peels)}\`), then revoke peel ${peel}`,
    );
  // Every JWT of that key issued up to now is refused; never a time before it was issued.
  state.auth.revoked[issued.key] = Math.max(options.now ?? Math.floor(Date.now() / 1000), issued.issuedAt);
  writeState(stateDir, state);
  const topology = topologyOf(state);
  const running = state.servers.filter((s) => isAlive(s.pid, s.confPath));
  const loadedBefore = new Map<string, string>();
  for (const s of running) {
    const varz = await getMonitoring(`${s.monitorUrl}/varz`, VarzSchema);
    if (varz !== undefined) loadedBefore.set(s.name, varz.config_load_time);
  }
  for (const s of topology.servers) writeServerConf(stateDir, state, topology, s.name);
  for (const s of running) if (s.pid !== undefined) process.kill(s.pid, "SIGHUP");
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const pending = new Set(running.map((s) => s.name));
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const s = topology.servers.find((x) => x.name === name);
      const varz = s === undefined ? undefined : await getMonitoring(`${monitorUrl(s)}/varz`, VarzSchema);
      if (varz !== undefined && varz.config_load_time !== loadedBefore.get(name)) pending.delete(name);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `peel ${peel} is revoked in the configs, but ${[...pending].join(", ")} did not reload them within ${String(options.timeoutMs ?? 15_000)} ms: look at their logs, then \`up\` again`,
      );
    await sleep(50);
  }
  return { key: issued.key, reloaded: running.map((s) => s.name) };
}
