/**
 * What the local target runs, described as every target describes it (topology/deployment.ts):
 * per server its config's restart and reload keys, and its JetStream directory. The transition
 * planner compares two of these to tell a reload from a restart. Pure.
 */
import type { Deployment, DeployedServer } from "../topology/deployment";
import type { Secrets } from "../topology/auth";
import { natsServerConfig } from "../topology/render/nats-server-conf";
import { digest, restartPart } from "../topology/render/reload";
import type { Topology } from "../topology/types";

/** Every local server runs on this machine: nothing about what runs it changes with the tier. */
export const LOCAL_HOST = "loopback";

export function localDeployment(
  t: Topology,
  version: string,
  storeDir: (server: string) => string,
  secrets: Secrets,
): Deployment {
  return {
    version: 1,
    target: "local",
    tier: t.tier,
    peels: t.plan.peels,
    natsVersion: version,
    servers: t.servers.map((s): DeployedServer => {
      const config = natsServerConfig({ topology: t, server: s.name, version, storeDir: storeDir(s.name), secrets });
      return {
        name: s.name,
        role: s.role,
        region: s.region,
        ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
        ...(s.site === undefined ? {} : { site: s.site }),
        host: LOCAL_HOST,
        restart: digest(restartPart(config), version),
        reload: digest(config),
        ...(s.jetstream ? { data: { kind: "directory" as const, volume: storeDir(s.name), detail: "" } } : {}),
      };
    }),
  };
}
