/** `npm run -s twin`: the generic commands, and the target-specific ones saying they are not built yet. */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
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

  test("up, run-job and status answer that they are not built yet, with exit 2", () => {
    for (const verb of ["up", "run-job", "status"]) {
      const r = runScript("twin", ["aws", verb, "--stack", "staging"]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("not built yet");
    }
  });

  test("down removes the state directory; exec without a running twin says so", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-cli-"));
    writeFileSync(path.join(dir, "stack.json"), "{}");
    const exec = runScript("twin", ["kubernetes", "exec", "--state-dir", dir, "--", "true"]);
    expect(exec.status).toBe(2);
    expect(exec.stderr).toContain(`no kubernetes twin runs in ${dir}`);
    const r = runScript("twin", ["kubernetes", "down", "--state-dir", dir]);
    expect(r.status).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});
