import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * `systemd-analyze verify` on units (file name → text) written to a temporary folder. It checks
 * that each ExecStart exists: every path in `stubs` is replaced by an executable made here.
 */
export function verifyUnits(
  units: Record<string, string>,
  stubs: string[] = [],
): { status: number | null; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-units-"));
  try {
    const stub = path.join(dir, "stub");
    writeFileSync(stub, "#!/bin/sh\n", { mode: 0o755 });
    const files = Object.entries(units).map(([name, text]) => {
      const file = path.join(dir, name);
      writeFileSync(
        file,
        stubs.reduce((t, s) => t.replaceAll(`ExecStart=${s}`, `ExecStart=${stub}`), text),
      );
      return file;
    });
    const r = spawnSync("systemd-analyze", ["verify", ...files], { encoding: "utf8" });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
