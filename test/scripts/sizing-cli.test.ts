import path from "node:path";
import { npmRun, ROOT, runScript } from "../helpers/run";

const TRACE = ["-r", path.join(ROOT, "test", "helpers", "trace-modules.cjs")];

describe("the sizing calculator", () => {
  test("`npm run -s sizing -- --peels 25000 --json` prints the plan with the contract's top-level keys", () => {
    const r = npmRun("sizing", ["--peels", "25000", "--json"]);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of [
      "tier",
      "peels",
      "serversPerCluster",
      "server",
      "natsServer",
      "client",
      "os",
      "kv",
      "bandwidth",
      "checklist",
    ]) {
      expect(plan).toHaveProperty(key);
    }
    expect(plan.tier).toBe("cluster-5");
    expect(plan.peels).toBe(25_000);
    const kv = plan.kv as Record<string, unknown>[];
    for (const bucket of kv) {
      expect(Object.keys(bucket)).toEqual(
        expect.arrayContaining(["name", "kind", "history", "ttlSeconds", "replicas", "storage"]),
      );
      expect(["kv", "stream"]).toContain(bucket.kind);
    }
  });

  test("--fact-interval feeds the bandwidth model and the output says which interval it used", () => {
    const r = runScript("sizing", ["--peels", "1000", "--json", "--fact-interval", "300"]);
    const bw = (JSON.parse(r.stdout) as { bandwidth: { factIntervalSeconds: number; factSyncBytesPerSecond: number } })
      .bandwidth;
    expect(bw.factIntervalSeconds).toBe(300);
    expect(bw.factSyncBytesPerSecond).toBeCloseTo(6_666.67, 1);
    expect(runScript("sizing", ["--peels", "1000", "--fact-interval", "300"]).stdout).toMatch(/fact sync every 5 min/);
  });

  test("the readable output has a table for every part of the plan", () => {
    const r = runScript("sizing", ["--peels", "60000"]);
    expect(r.status).toBe(0);
    for (const title of [
      "Tier",
      "Topology",
      "Per-server resources",
      "nats-server tuning",
      "Client tuning",
      "OS tuning",
      "KV plan",
      "Bandwidth",
      "Checklist",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${title}`, "m"));
    }
    expect(r.stdout).toMatch(/leaf node/);
    expect(r.stdout).toMatch(/LimitNOFILE \(core\)/);
  });

  test.each([
    [[], /--peels is required/],
    [["--peels", "-5"], /--peels: must be a whole number from 0 to 1,000,000; got "-5"/],
    [["--peels=-5"], /--peels: must be a whole number from 0 to 1,000,000; got "-5"/],
    [["--peels", "2.5"], /--peels: must be a whole number .*; got "2.5"/],
    [["--peels", "lots"], /--peels: must be a whole number .*; got "lots"/],
    [["--peels", "1e9"], /--peels: must be a whole number .*; got "1e9"/],
    [["--peels", "5000000"], /--peels: must be a whole number from 0 to 1,000,000; got "5000000"/],
    [["--peels", "10", "--fact-interval", "0"], /--fact-interval: must be whole seconds from 1 to 86,400; got "0"/],
    [["--peels", "10", "--frobnicate"], /Unknown option '--frobnicate'/],
  ])("bad input %j exits 2 and says what is accepted", (args, message) => {
    const r = runScript("sizing", args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });

  test("--help describes every flag and exits 0", () => {
    const r = runScript("sizing", ["--help"]);
    expect(r.status).toBe(0);
    for (const flag of ["--peels", "--json", "--fact-interval"]) expect(r.stdout).toContain(flag);
  });

  test("the calculator never loads Pulumi (the offline plan, as a control, does)", () => {
    const calc = runScript("sizing", ["--peels", "25000", "--json"], TRACE);
    expect(calc.stderr).toMatch(/PULUMI_MODULES_LOADED=0\n/);
    const control = runScript("plan", ["--stack", "dev", "--json"], TRACE);
    expect(control.stderr).toMatch(/PULUMI_MODULES_LOADED=[1-9]/);
  });
});
