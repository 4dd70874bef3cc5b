import { tempStateDir } from "../helpers/local";
import { runScript } from "../helpers/run";
import { rmSync } from "node:fs";

describe("npm run fleet: bad input", () => {
  test.each([
    [[], /--peels is required/],
    [["--peels", "0"], /--peels: must be a whole number from 1 to 200,000; got "0"/],
    [["--peels", "10", "--duration", "1.5"], /--duration: must be a whole number from 1 to 3,600; got "1.5"/],
    [["--peels", "10", "--peels-per-process", "-3"], /--peels-per-process: must be a whole number/],
    [["--peels", "10", "--loud"], /Unknown option '--loud'/],
  ])("%j exits 2 naming the flag", (args, message) => {
    const r = runScript("fleet", args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("a state directory where nothing is up exits 2 and says how to start a tier", () => {
    const dir = tempStateDir("fleet-empty");
    try {
      const r = runScript("fleet", ["--peels", "10", "--state-dir", dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/nothing is up in .*npm run -s local -- up --detach/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
