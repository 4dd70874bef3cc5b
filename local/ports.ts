/**
 * Free TCP ports on loopback, taken together so no two servers get the same one.
 *
 * They are chosen outside the kernel's ephemeral range (`ip_local_port_range`): the kernel gives
 * those ports to outgoing connections as their local ports, so one that is free now may be some
 * client's by the time a server binds it, and a tier transition binds the ports it plans only
 * minutes later, after its rolling restarts. Outside that range only another listener can take a
 * port, and each candidate is checked by binding it.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

/** Where ports are looked for when the ephemeral range cannot be read: Linux's default lies above. */
const FALLBACK: [number, number] = [10_000, 32_768];
/** The lowest port handed out: below it lie well-known services' ports. */
const LOWEST = 10_000;
/** Enough for the largest local tier (a supercluster) many times over. */
const MIN_SPAN = 2_000;

/** The ports to choose from, [low, high): below the ephemeral range, else above it. */
export function listenRange(rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
  let text: string;
  try {
    text = readFileSync(rangeFile, "utf8");
  } catch {
    return FALLBACK;
  }
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high)) return FALLBACK;
  if (low - LOWEST >= MIN_SPAN) return [LOWEST, low];
  if (65_536 - (high + 1) >= MIN_SPAN) return [high + 1, 65_536];
  return FALLBACK;
}

/** Binds `port`, or says it is taken. */
function tryListen(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => {
      resolve(undefined);
    });
    server.listen(port, host, () => {
      resolve(server);
    });
  });
}

export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const [low, high] = listenRange();
  const servers: Server[] = [];
  const ports = new Set<number>();
  try {
    // Random candidates, so processes choosing at the same time rarely try the same ones.
    for (let tries = 0; ports.size < count; tries++) {
      if (tries > count * 50 + 1_000)
        throw new Error(`no ${String(count)} free ports between ${String(low)} and ${String(high - 1)} on ${host}`);
      const port = low + Math.floor(Math.random() * (high - low));
      if (ports.has(port)) continue;
      const server = await tryListen(port, host);
      if (server === undefined) continue;
      servers.push(server);
      ports.add(port);
    }
    return [...ports];
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
