/**
 * Ports by server name, for the local target: a server keeps its ports across tier transitions
 * (its clients' URLs do not change), and a new server or a new listener gets one of `free`.
 */
import type { Addressing, Ports, Topology } from "../topology/types";
import { LOOPBACK } from "./addressing";

export type AddressBook = Record<string, Ports>;

/** Reads ports from `book`; a server or listener it does not have gets the next of `free`. */
export function bookAddressing(book: AddressBook, free: number[] = []): Addressing {
  let next = 0;
  return {
    host: () => LOOPBACK,
    port: (server, kind) => {
      const known = book[server.name]?.[kind];
      if (known !== undefined) return known;
      const port = free[next++];
      if (port === undefined)
        throw new Error(`no free port left for ${server.name}'s ${kind} listener (${String(free.length)} were taken)`);
      return port;
    },
  };
}

/** The ports a topology's servers use, by name (nothing else: a removed server's ports are free again). */
export function addressBookOf(t: Topology): AddressBook {
  return Object.fromEntries(t.servers.map((s) => [s.name, { ...s.ports }]));
}
