import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePorts, listenRange } from "../../local/ports";

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
