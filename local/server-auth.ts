/** What a local server's config is rendered with: the identities' public keys and its TLS files. */
import type { NatsConfInput } from "../topology/render/nats-server-conf";
import type { Topology } from "../topology/types";
import path from "node:path";
import { localTlsFiles } from "./certificates";
import { publicKeys } from "./identities";
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
  return {
    topology,
    server,
    version: state.natsServer.version,
    storeDir: path.join(stateDir, "servers", server, "jetstream"),
    auth: { keys: publicKeys(state.auth.seeds), tls: localTlsFiles(stateDir, topology, s) },
  };
}
