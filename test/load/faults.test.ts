/** @servers @long */
import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, runScript } from "../helpers/run";

const SID = path.join(ROOT, ".cache", "nats-server", "sid", "nats-server");

interface Scenario {
  name: string;
  gapMs: number;
  recoveryMs: number | null;
  recovered: boolean;
  acked: number;
  lost: number;
  unacked: number;
  detail: string;
}

const leftovers = (): string[] => readdirSync(os.tmpdir()).filter((f) => f.startsWith("zester-fault-"));

describe("npm run faults", () => {
  test("short mode on the 3-node tier: a killed leader, a frozen leader, full storage; nothing acknowledged lost", () => {
    const before = leftovers();
    const r = runScript("faults", [
      "--short",
      "--json",
      "--peels",
      "6",
      "--only",
      "kill-kv-leader,freeze-kv-leader,storage-full",
      "--nats-server",
      SID,
    ]);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as { natsServer: string; scenarios: Scenario[] };
    expect(report.natsServer).toBe("2.15.1");
    expect(report.scenarios.map((s) => s.name)).toEqual(["kill-kv-leader", "freeze-kv-leader", "storage-full"]);
    for (const s of report.scenarios) {
      expect(s).toMatchObject({ recovered: true, lost: 0 });
      expect(typeof s.gapMs).toBe("number");
      expect(typeof s.recoveryMs).toBe("number");
      expect(s.acked).toBeGreaterThan(0);
    }
    // Full storage refuses writes until space is freed: they are unacknowledged, not lost.
    expect(report.scenarios[2]?.unacked).toBeGreaterThan(0);
    expect(report.scenarios[2]?.detail).toMatch(/insufficient resources|no space|storage/i);
    expect(r.status).toBe(0);
    // Every scenario's servers were stopped and its directory removed.
    expect(leftovers()).toEqual(before);
  }, 240_000);

  test.each([
    [["--peels", "0"], /--peels: must be a whole number from 1 to 1,000; got "0"/],
    [
      ["--only", "kill-kv-leader,meteor"],
      /--only: unknown scenario "meteor"; accepted: kill-kv-leader, .*storage-full/,
    ],
    [["--chaos"], /Unknown option '--chaos'/],
  ])("%j exits 2 naming the flag", (args, message) => {
    const r = runScript("faults", args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("--help lists every scenario", () => {
    const r = runScript("faults", ["--help"]);
    expect(r.status).toBe(0);
    for (const name of [
      "kill-kv-leader",
      "lame-duck-kv-leader",
      "crash-2-of-5",
      "freeze-kv-leader",
      "leaf-restart",
      "region-cut",
      "storage-full",
    ])
      expect(r.stdout).toContain(name);
    expect(existsSync(SID)).toBe(true);
  });
});
