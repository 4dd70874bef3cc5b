/**
 * Free TCP ports on loopback, taken together so no two servers get the same one.
 *
 * They are chosen outside the kernel's ephemeral range (`ip_local_port_range`): the kernel gives
 * those ports to outgoing connections as their local ports, so one that is free now may be some
 * client's by the time a server binds it, and a tier transition binds the ports it plans only
 * minutes later, after its rolling restarts. Outside that range only another listener can take a
 * port, and each candidate is checked by binding it.
 *
 * A port handed out stays reserved until the process that chose it exits: the servers of a
 * tier, and a transition's next servers, bind their ports seconds to minutes after they were
 * chosen, and another process choosing meanwhile (a second tier on this machine, the test
 * files running side by side) found them free and bound them first. The reservation is a file
 * per port in a directory every process of this user shares, naming the process that holds it;
 * one whose process is gone is free again, and a process removes its own as it exits.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";

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

/** Where reservations are kept. */
export const RESERVATIONS = path.join(os.tmpdir(), `zester-ports-${String(os.userInfo().uid)}`);

const mine = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function releaseMine(): void {
  for (const file of mine) rmSync(file, { force: true });
  mine.clear();
  try {
    rmdirSync(RESERVATIONS);
  } catch {
    // Another process still holds ports there.
  }
}

/**
 * Reserves `port` for this process: false when a live process (this one included) holds it.
 * Exported for its test.
 */
export function reserve(port: number, dir = RESERVATIONS): boolean {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(file, "utf8"));
    } catch {
      // Released between the two calls: taken again below.
    }
    if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && alive(owner))) return false;
    // Its process is gone: removed, then taken as above, so of two processes taking it one wins.
    rmSync(file, { force: true });
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
    } catch {
      return false;
    }
  }
  if (mine.size === 0) process.once("exit", releaseMine);
  mine.add(file);
  return true;
}

/**
 * Removes the reservations of processes that are gone. A process removes its own as it exits,
 * except where its exit is not seen (a test runner's sandbox gives test code a stand-in
 * `process`): the test suite sweeps once its workers are done, `finished` naming live processes
 * whose reservations are over (its own, when tests ran in it).
 */
export function sweepReservations(dir = RESERVATIONS, finished: readonly number[] = []): void {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of files) {
    const file = path.join(dir, name);
    let owner: number;
    try {
      owner = Number(readFileSync(file, "utf8"));
    } catch {
      continue;
    }
    if (finished.includes(owner) || !(Number.isInteger(owner) && owner > 0 && alive(owner)))
      rmSync(file, { force: true });
  }
  try {
    rmdirSync(dir);
  } catch {
    // Some are held still.
  }
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
      if (!reserve(port)) {
        await new Promise((resolve) => server.close(resolve));
        continue;
      }
      servers.push(server);
      ports.add(port);
    }
    return [...ports];
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
