/**
 * A revocation while a tier transition is under way is refused before anything is written: the
 * servers then run two tiers' configs, which writing one tier's configs over them would undo, and
 * the transition's process keeps the state file as it goes. No server runs here (the attacks'
 * tests revoke on running ones).
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { loopbackAddressing } from "../../local/addressing";
import { completeSeeds } from "../../local/identities";
import { revokePeel, UnknownPeel } from "../../local/revocation";
import { RefusedError } from "../../local/runner";
import { STATE_FILE, writeState, type LocalState } from "../../local/state";
import { planned, prepare } from "../../topology/prepare";
import { tempStateDir } from "../helpers/local";

/** A stopped single-server tier's state file, with peel `p1` issued. */
function stoppedWithPeel(stateDir: string, transition?: LocalState["transition"]): LocalState {
  const wanted = planned({ peels: 100 });
  const ports = Array.from({ length: wanted.plan.totalServers * 4 }, (_, i) => 41_000 + i);
  const { topology } = prepare(wanted, loopbackAddressing(ports));
  const state: LocalState = {
    peels: 100,
    tier: wanted.plan.tier,
    serversPerCluster: wanted.plan.serversPerCluster,
    natsServer: { path: "/nowhere/nats-server", version: "2.10.0", origin: "test" },
    auth: { seeds: completeSeeds(), ca: "ca", peels: { p1: { key: "UKEY", issuedAt: 1_000 } }, revoked: {} },
    servers: topology.servers.map((s) => ({
      name: s.name,
      role: s.role,
      region: s.region,
      ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
      clientUrl: `nats://127.0.0.1:${String(s.ports.client)}`,
      monitorUrl: `http://127.0.0.1:${String(s.ports.monitor)}`,
      confPath: `${stateDir}/servers/${s.name}/nats-server.conf`,
      logPath: `${stateDir}/servers/${s.name}/nats-server.log`,
    })),
    ports,
    retired: [],
    zester: [],
    ...(transition === undefined ? {} : { transition }),
  };
  writeState(stateDir, state);
  return state;
}

let dir: string;
beforeEach(() => {
  dir = tempStateDir("revocation");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const stateFile = (): string => readFileSync(path.join(dir, STATE_FILE), "utf8");

test("during a tier transition: refused, naming how to finish it, and nothing written", async () => {
  stoppedWithPeel(dir, { peels: 2_000, done: ["start-core-1"], staging: {} });
  const before = stateFile();
  const refusal = revokePeel(dir, "p1", { now: 2_000 });
  await expect(refusal).rejects.toThrow(RefusedError);
  await expect(refusal).rejects.toThrow(/transition to 2000 peels is under way.*`up --peels 2000`.*revoke peel p1/);
  expect(stateFile()).toBe(before);
});

test("with no transition: the peel's key is revoked from when it is asked (no server runs to reload)", async () => {
  stoppedWithPeel(dir);
  await expect(revokePeel(dir, "p1", { now: 2_000 })).resolves.toEqual({ key: "UKEY", reloaded: [] });
  expect((JSON.parse(stateFile()) as LocalState).auth.revoked).toEqual({ UKEY: 2_000 });
});

test("a peel never issued credentials: UnknownPeel, transition or not", async () => {
  stoppedWithPeel(dir, { peels: 2_000, done: [], staging: {} });
  await expect(revokePeel(dir, "p2")).rejects.toThrow(UnknownPeel);
});
