/**
 * What `up` starts on a state directory that holds a tier is planned from everything the directory
 * was started with, not from the peel count alone: three declared regions at 150,000 peels stay
 * three on the next `up` (the implied two would plan another tier shape, which `up` refuses).
 * Decided before anything starts, so no server runs here (the CLI tests start real ones).
 */
import { rmSync } from "node:fs";
import { planUp, preparedOf, RefusedError } from "../../local/runner";
import { writeState, type LocalState } from "../../local/state";
import { loopbackAddressing } from "../../local/addressing";
import { completeSeeds } from "../../local/identities";
import { planned, prepare } from "../../topology/prepare";
import { tempStateDir } from "../helpers/local";

const THREE = { regions: [{ name: "region-0" }, { name: "region-1" }, { name: "region-2" }] };

/** The state file `up --peels 150000 --sizing THREE` leaves behind once stopped (`down`). */
function stoppedThreeRegions(stateDir: string): LocalState {
  const wanted = planned({ peels: 150_000, ...THREE });
  const ports = Array.from({ length: wanted.plan.totalServers * 4 }, (_, i) => 40_000 + i);
  const { topology } = prepare(wanted, loopbackAddressing(ports));
  const state: LocalState = {
    peels: 150_000,
    sizing: THREE,
    tier: wanted.plan.tier,
    serversPerCluster: wanted.plan.serversPerCluster,
    natsServer: { path: "/nowhere/nats-server", version: "2.10.0", origin: "test" },
    auth: { seeds: completeSeeds(), ca: "ca", peels: {}, revoked: {} },
    servers: topology.servers.map((s) => ({
      name: s.name,
      role: s.role,
      region: s.region,
      ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
      ...(s.site === undefined ? {} : { site: s.site }),
      clientUrl: `nats://127.0.0.1:${String(s.ports.client)}`,
      monitorUrl: `http://127.0.0.1:${String(s.ports.monitor)}`,
      confPath: `${stateDir}/servers/${s.name}/nats-server.conf`,
      logPath: `${stateDir}/servers/${s.name}/nats-server.log`,
    })),
    ports,
    retired: [],
    zester: [],
  };
  writeState(stateDir, state);
  return state;
}

let dir: string;
beforeEach(() => {
  dir = tempStateDir("three-regions");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("a state directory started with three regions at 150,000 peels keeps them on the next up", () => {
  const state = stoppedThreeRegions(dir);
  const implied = planned({ peels: 150_000 }).plan;
  // Not vacuous: the peel count alone plans another shape.
  expect(implied.regions.map((r) => r.name)).toEqual(["region-0", "region-1"]);
  expect(implied.totalServers).not.toBe(state.servers.length);

  const next = planUp({ peels: 150_000, stateDir: dir });
  expect(next.declared).toEqual(THREE);
  expect(next.planned.plan.regions.map((r) => r.name)).toEqual(["region-0", "region-1", "region-2"]);
  expect(next.planned.plan.totalServers).toBe(state.servers.length);
  // And what the directory runs is rebuilt the same way (status, down, a transition's start).
  expect(preparedOf(state).topology.clusters.map((c) => c.region)).toEqual(["region-0", "region-1", "region-2"]);
});

test("a peel count that plans other servers is refused by up (a transition moves it), naming both", () => {
  stoppedThreeRegions(dir);
  expect(() => planUp({ peels: 100_000, stateDir: dir })).toThrow(RefusedError);
  expect(() => planUp({ peels: 100_000, stateDir: dir })).toThrow(
    /holds the supercluster tier \(150000 peels, 30 servers\); 100000 peels plan supercluster \(15 servers\)/,
  );
});
