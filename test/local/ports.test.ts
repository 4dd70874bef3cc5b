import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePorts, listenRange, reserve, sweepReservations } from "../../local/ports";

const dir = mkdtempSync(path.join(os.tmpdir(), "zester-ports-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const rangeFile = (text: string): string => {
  const file = path.join(dir, `range-${String(Math.random())}`);
  writeFileSync(file, text);
  return file;
};

describe("listenRange(): ports outside the kernel's ephemeral range", () => {
  test("below it when there is room (Linux's default 32768–60999)", () => {
    expect(listenRange(rangeFile("32768\t60999\n"))).toEqual([10_000, 32_768]);
  });
  test("above it when it starts low", () => {
    expect(listenRange(rangeFile("1024 50000"))).toEqual([50_001, 65_536]);
  });
  test("a fallback when the file is missing or unreadable", () => {
    expect(listenRange(path.join(dir, "absent"))).toEqual([10_000, 32_768]);
    expect(listenRange(rangeFile("nonsense"))).toEqual([10_000, 32_768]);
  });
});

test("freePorts(): distinct, bindable, outside this machine's ephemeral range", async () => {
  const [low, high] = listenRange();
  const ports = await freePorts(200);
  expect(new Set(ports).size).toBe(200);
  expect(ports.every((p) => p >= low && p < high)).toBe(true);
  // Each can be bound right after (nothing kept them).
  for (const port of ports.slice(0, 20)) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("reserve(): a port handed out is kept from other processes until its process exits", () => {
  test("held by this process: not again; by a live process: no; by one that is gone: yes", () => {
    const reservations = mkdtempSync(path.join(dir, "reserved-"));
    expect(reserve(20_001, reservations)).toBe(true);
    expect(reserve(20_001, reservations)).toBe(false);
    // This test's parent (jest's main process) is alive.
    writeFileSync(path.join(reservations, "20002"), String(process.ppid));
    expect(reserve(20_002, reservations)).toBe(false);
    const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    writeFileSync(path.join(reservations, "20003"), gone.stdout.trim());
    expect(reserve(20_003, reservations)).toBe(true);
    expect(readFileSync(path.join(reservations, "20003"), "utf8")).toBe(String(process.pid));
  });

  test("a sweep removes the reservations of processes that are gone, and only those", () => {
    const reservations = mkdtempSync(path.join(dir, "sweep-"));
    expect(reserve(20_005, reservations)).toBe(true);
    const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    writeFileSync(path.join(reservations, "20006"), gone.stdout.trim());
    sweepReservations(reservations);
    expect(readdirSync(reservations)).toEqual(["20005"]);
  });

  test("a process's reservations are removed as it exits", () => {
    const reservations = mkdtempSync(path.join(dir, "exit-"));
    const script = [
      `const { reserve } = require(${JSON.stringify(require.resolve("../../local/ports"))});`,
      `const held = reserve(20004, ${JSON.stringify(reservations)});`,
      `console.log(held, require("node:fs").readdirSync(${JSON.stringify(reservations)}).join());`,
    ].join("\n");
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    // Held while it ran, gone once it exited.
    expect(r.stdout).toBe("true 20004\n");
    expect(readdirSync(reservations)).toEqual([]);
  });
});
