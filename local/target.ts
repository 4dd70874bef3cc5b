/**
 * The local target's shape (change/target.ts): every server on loopback with ports of its own
 * (kept by name in the state file, so a server keeps its URLs across tier transitions), its files
 * under `<state>/servers/<name>/`, its deployment record the configs' keys and its JetStream
 * directory; it carries a transition's data moves out itself, so no job reports them.
 */
import path from "node:path";
import type { Target } from "../change/target";
import type { Addressing } from "../topology/types";
import { bookAddressing, type AddressBook } from "./address-book";
import { loopbackAddressing } from "./addressing";
import { localDeployment } from "./deployment";
import type { LocalState } from "./state";

export interface LocalSettings {
  stateDir: string;
  /** The identities and the nats-server binary the configs are rendered for. */
  state: Pick<LocalState, "auth" | "natsServer">;
  /** Each server's ports by name, where a state directory has them. @default ports in build order */
  addresses?: AddressBook;
  /** Ports for servers and listeners the book does not have, taken in build order. */
  freePorts: number[];
}

/** Each server's directory: its config, its log and (core servers) its JetStream store. */
export interface LocalLayout {
  servers: { name: string; dir: string }[];
}

/** Ports from the book where it has them, else the next free one. */
export function localAddressing(s: Pick<LocalSettings, "addresses" | "freePorts">): Addressing {
  return s.addresses === undefined ? loopbackAddressing(s.freePorts) : bookAddressing(s.addresses, s.freePorts);
}

export const LOCAL: Target<LocalSettings, LocalLayout> = {
  name: "local",
  addressing: localAddressing,
  layout: (t, s) => ({
    servers: t.servers.map((x) => ({ name: x.name, dir: path.join(s.stateDir, "servers", x.name) })),
  }),
  deployment: (t, _layout, s) => localDeployment(t, s.stateDir, s.state),
  reportPlace: () => undefined,
};
