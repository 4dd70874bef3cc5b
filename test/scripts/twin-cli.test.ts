/**
 * `npm run -s twin`: its words and flags, and what it says with no twin running; the daemon's
 * commands against a running twin are test/twin/daemon.test.ts's.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runScript } from "../helpers/run";

describe("npm run twin", () => {
  test("--help names every command and says which are not built yet", () => {
    const r = runScript("twin", ["--help"]);
    expect(r.status).toBe(0);
    for (const word of ["up --stack NAME", "run-job", "status", "exec", "down", "--state-dir", "not built yet"])
      expect(r.stdout).toContain(word);
  });

  test("a twin or a command it does not know is refused, naming what it accepts", () => {
    const target = runScript("twin", ["gcp", "up"]);
    expect(target.status).toBe(2);
    expect(target.stderr).toContain("aws or kubernetes");
    const command = runScript("twin", ["aws", "destroy"]);
    expect(command.status).toBe(2);
    expect(command.stderr).toContain("up, run-job, status, exec, down");
  });

  test("kubernetes up answers that it is not built yet; run-job and status that no twin runs; all exit 2", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-cli-"));
    const up = runScript("twin", ["kubernetes", "up", "--stack", "dev", "--state-dir", dir]);
    expect(up.status).toBe(2);
    expect(up.stderr).toContain("not built yet");
    for (const verb of ["run-job", "status"]) {
      const r = runScript("twin", ["aws", verb, "--state-dir", dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`no aws twin runs in ${dir}`);
    }
    const noStack = runScript("twin", ["aws", "up", "--state-dir", dir]);
    expect([noStack.status, noStack.stderr]).toEqual([2, expect.stringContaining("up needs --stack NAME")]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("down without a twin removes nothing that is not the twin's; exec without a running twin says so", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-cli-"));
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    const exec = runScript("twin", ["kubernetes", "exec", "--state-dir", dir, "--", "true"]);
    expect(exec.status).toBe(2);
    expect(exec.stderr).toContain(`no kubernetes twin runs in ${dir}`);
    const r = runScript("twin", ["kubernetes", "down", "--state-dir", dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`No kubernetes twin ran in ${dir}; nothing to end.`);
    expect(existsSync(path.join(dir, "notes.txt"))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
