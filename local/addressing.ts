/** Loopback addressing: every server on 127.0.0.1, each port taken from a list of free ones. */
import type { Addressing } from "../topology/types";

export const LOOPBACK = "127.0.0.1";

/** How many ports `build()` can ask for at most: client, monitor, cluster, leafnode per server. */
export const PORTS_PER_SERVER = 4;

export function loopbackAddressing(free: number[]): Addressing {
  let next = 0;
  const take = (): number => {
    const port = free[next++];
    if (port === undefined) throw new Error("ran out of free ports");
    return port;
  };
  return {
    host: () => LOOPBACK,
    port: () => take(),
  };
}
