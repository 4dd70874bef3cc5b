/**
 * What the local target runs, described as every target describes it (change/deployment.ts):
 * per server its config's restart and reload keys, and its JetStream directory. The transition
 * planner compares two of these to tell a reload from a restart. Pure.
 */
import { ACCOUNTS, type Deployment, type DeployedServer } from "../change/deployment";
import { natsServerConfig } from "../topology/render/nats-server-conf";
import { digest, restartPart } from "../topology/render/reload";
import type { Topology } from "../topology/types";
import { localConfInput } from "./server-auth";
import type { LocalState } from "./state";

/** Every local server runs on this machine: nothing about what runs it changes with the tier. */
export const LOCAL_HOST = "loopback";

export function localDeployment(
  t: Topology,
  stateDir: string,
  state: Pick<LocalState, "auth" | "natsServer">,
): Deployment {
  const version = state.natsServer.version;
  return {
    version: 1,
    target: "local",
    tier: t.tier,
    peels: t.plan.peels,
    natsVersion: version,
    accounts: ACCOUNTS,
    servers: t.servers.map((s): DeployedServer => {
      const input = localConfInput(stateDir, state, t, s.name);
      const config = natsServerConfig(input);
      return {
        name: s.name,
        role: s.role,
        region: s.region,
        ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
        ...(s.site === undefined ? {} : { site: s.site }),
        host: LOCAL_HOST,
        restart: digest(restartPart(config), version),
        reload: digest(config),
        ...(s.jetstream ? { data: { kind: "directory" as const, volume: input.storeDir, detail: "" } } : {}),
      };
    }),
  };
}
