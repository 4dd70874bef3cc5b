/** What a local server's config is rendered with: the identities' JWTs and its TLS files. */
import type { NatsConfInput } from "../topology/render/nats-server-conf";
import { serverIdentities } from "../topology/identities";
import { linkOf } from "../topology/tls";
import type { Topology } from "../topology/types";
import path from "node:path";
import { localTlsFiles } from "./certificates";
import { credsFile, stackSeeds } from "./identities";
import type { LocalState } from "./state";

/** The input of one local server's `nats-server.conf`; its data under `<state>/servers/<name>/`. */
export function localConfInput(
  stateDir: string,
  state: Pick<LocalState, "auth" | "natsServer">,
  topology: Topology,
  server: string,
): NatsConfInput {
  const s = topology.servers.find((x) => x.name === server);
  if (s === undefined) throw new Error(`no server "${server}" in this topology`);
  const link = linkOf(topology, s);
  return {
    topology,
    server,
    version: state.natsServer.version,
    storeDir: path.join(stateDir, "servers", server, "jetstream"),
    auth: {
      identities: serverIdentities(stackSeeds(state), topology, state.auth.revoked),
      tls: {
        ...localTlsFiles(stateDir, topology, s),
        ...(link === undefined
          ? {}
          : { linkCredsFile: credsFile(stateDir, link === "leaf-link" ? "leafLink" : "regionLink") }),
      },
    },
  };
}
