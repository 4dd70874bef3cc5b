/** @servers */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { Kvm } from "@nats-io/kv";
import { connectAdmin } from "../../jetstream/connect";
import path from "node:path";
import { ROOT, runScript } from "../helpers/run";
import { tempStateDir } from "../helpers/local";

const SID = path.join(ROOT, ".cache", "nats-server", "sid", "nats-server");
/** Counts the plans and topology builds of the process (test/helpers/count-plans.cjs). */
const COUNT = ["-r", path.join(ROOT, "test", "helpers", "count-plans.cjs")];

interface StatusJson {
  tier: string;
  metaLeader: string | null;
  servers: { name: string; cluster: string | null; role: string; healthy: boolean; clientUrl: string }[];
  kv: { name: string; replicas: number | null }[];
  connect: {
    servers: string[];
    credsFile: string;
    inboxPrefix: string;
    tls: { caFile: string };
    roles: Record<string, { credsFile: string; inboxPrefix: string }>;
  };
  certificates: { name: string; subject: string; file: string; notAfter: string; daysLeft: number }[];
}

describe("npm run local", () => {
  test("up --detach, status --json, transition --json, up --peels moving the tier, down --purge", async () => {
    const dir = tempStateDir("cli");
    const countFile = `${dir}-count.json`;
    try {
      // An override declared at the start is kept through the tier transition below.
      const upRun = runScript(
        "local",
        [
          "up",
          "--detach",
          "--peels",
          "50",
          "--state-dir",
          dir,
          "--nats-server",
          SID,
          "--sizing",
          '{"overrides":{"natsServer":{"maxConnections":7777}}}',
        ],
        COUNT,
        { ZESTER_COUNT_FILE: countFile },
      );
      expect(upRun.stderr).toBe("");
      expect(upRun.status).toBe(0);
      // One preparation: the flags are checked by planning the spec `up` then starts.
      expect(JSON.parse(readFileSync(countFile, "utf8"))).toEqual({ plan: [50], build: [50] });
      expect(upRun.stdout).toMatch(/nats-server 2\.15\.1 from --nats-server/);
      expect(upRun.stdout).toMatch(/Resources are scaled to this machine/);

      const st = runScript("local", ["status", "--json", "--state-dir", dir]);
      expect(st.status).toBe(0);
      const report = JSON.parse(st.stdout) as StatusJson;
      expect(report.tier).toBe("single-small");
      expect(report.metaLeader).toBe("core-0");
      expect(report.servers).toEqual([
        expect.objectContaining({ name: "core-0", cluster: "zester", role: "core", healthy: true }),
      ]);
      expect(report.servers[0]?.clientUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(report.kv).toHaveLength(14);
      expect(report.kv.every((k) => k.replicas === 1)).toBe(true);

      // What `up` printed and `status --json` gives is enough to connect as the Zester app, over TLS.
      const c = report.connect;
      expect(upRun.stdout).toContain(`servers:  ${c.servers.join(",")}`);
      expect(c.servers).toEqual([report.servers[0]?.clientUrl]);
      const creds = readFileSync(c.credsFile, "utf8");
      const seed = /SU[A-Z0-9]{56}/.exec(creds)?.[0] ?? "no seed in the credentials";
      expect(upRun.stdout).not.toContain(seed);
      expect(statSync(c.credsFile).mode & 0o777).toBe(0o600);
      const ca = readFileSync(c.tls.caFile, "utf8");
      const nc = await connectAdmin(c.servers, { creds, ca, inboxPrefix: c.inboxPrefix });
      try {
        expect(await (await new Kvm(nc).open("facts")).put("from-connect-info", "ok")).toBeGreaterThan(0);
      } finally {
        await nc.close();
      }
      expect(Object.keys(c.roles).sort()).toEqual(["master", "monitoring", "reconcile", "system"]);
      // Every certificate the servers use, with when it expires (825 days from now).
      expect(report.certificates.map((x) => x.name)).toEqual(["ca", "core-0"]);
      for (const cert of report.certificates) {
        expect(statSync(cert.file).isFile()).toBe(true);
        expect(cert.daysLeft).toBeGreaterThanOrEqual(cert.name === "ca" ? 3649 : 824);
        expect(Date.parse(cert.notAfter)).toBeGreaterThan(Date.now());
      }

      // A peel's own credentials: issued once, at the first ask; a peel's work with them; revoked, refused.
      const issued = runScript("local", ["creds", "--peel", "peel-1", "--json", "--state-dir", dir]);
      expect([issued.stderr, issued.status]).toEqual(["", 0]);
      const peel = JSON.parse(issued.stdout) as Record<string, string>;
      expect(Object.keys(peel)).toEqual(["peel", "credsFile"]);
      expect(peel).toEqual({ peel: "peel-1", credsFile: path.join(dir, "identities", "peels", "peel-1.creds") });
      expect(statSync(peel.credsFile ?? "").mode & 0o777).toBe(0o600);
      expect(runScript("local", ["creds", "--peel", "peel-1", "--state-dir", dir]).stdout).toBe(`${peel.credsFile}\n`);
      const peelAuth = { creds: readFileSync(peel.credsFile ?? "", "utf8"), ca, inboxPrefix: "_INBOX.peel-1" };
      const asPeel = await connectAdmin(c.servers, peelAuth);
      try {
        expect(await (await new Kvm(asPeel).open("facts")).put("peel-1", "ok")).toBeGreaterThan(0);
      } finally {
        await asPeel.close();
      }
      const revoked = runScript("local", ["revoke", "--peel", "peel-1", "--json", "--state-dir", dir]);
      expect([revoked.stderr, revoked.status]).toEqual(["", 0]);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ peel: "peel-1", reloaded: ["core-0"] });
      await expect(connectAdmin(c.servers, peelAuth)).rejects.toThrow(/authorization/i);
      const reissue = runScript("local", ["creds", "--peel", "peel-1", "--state-dir", dir]);
      expect(reissue.status).toBe(2);
      expect(reissue.stderr).toMatch(/peel-1 was revoked.*--reissue/);
      const bad = runScript("local", ["creds", "--peel", "peel.*", "--state-dir", dir]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--peel: peel id "peel\.\*": not accepted/);
      const contextFile = path.join(dir, "connect", "nats", "context", "zester-local.json");
      expect(upRun.stdout).toContain(`context:  ${contextFile}`);
      expect(statSync(contextFile).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(contextFile, "utf8"))).toMatchObject({
        url: c.servers.join(","),
        creds: c.credsFile,
        ca: c.tls.caFile,
        inbox_prefix: "_INBOX.master",
      });
      expect(runScript("local", ["status", "--state-dir", dir]).stdout).toMatch(/Connect a client/);

      const again = runScript("local", ["up", "--detach", "--peels", "50", "--state-dir", dir, "--nats-server", SID]);
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/already up/);

      // The steps, without doing them: the stack output's shape, plus what is refused.
      const dry = runScript("local", ["transition", "--peels", "2000", "--json", "--state-dir", dir], COUNT, {
        ZESTER_COUNT_FILE: countFile,
      });
      expect(dry.status).toBe(0);
      // The tier that runs and the one wanted, each planned once.
      expect(JSON.parse(readFileSync(countFile, "utf8"))).toEqual({ plan: [50, 2000], build: [50, 2000] });
      const plan = JSON.parse(dry.stdout) as {
        from: unknown;
        to: unknown;
        phase: unknown;
        steps: { kind: string }[];
        refused: unknown[];
      };
      expect(plan).toMatchObject({
        from: { tier: "single-small", peels: 50 },
        to: { tier: "cluster-3", peels: 2000 },
        phase: null,
        refused: [],
      });
      expect(plan.steps.map((x) => x.kind)).toEqual([
        "add-cluster",
        "copy-data",
        "cut-over",
        "set-replicas",
        "delete-data",
      ]);
      expect(runScript("local", ["status", "--json", "--state-dir", dir]).stdout).toMatch(/"tier": "single-small"/);

      // Stopped, a different peel count starts the tier the directory holds, then moves it.
      runScript("local", ["down", "--state-dir", dir]);
      const grow = runScript("local", ["up", "--peels", "2000", "--state-dir", dir], COUNT, {
        ZESTER_COUNT_FILE: countFile,
      });
      expect(grow.stderr).toBe("");
      expect(grow.status).toBe(0);
      // The tier started and the one it moves to, each planned and built once (in the worker the command forks).
      expect(JSON.parse(readFileSync(countFile, "utf8"))).toEqual({ plan: [50, 2000], build: [50, 2000] });
      expect(grow.stdout).toMatch(/starting the single-small tier \(50 peels\) it holds first/);
      expect(grow.stdout).toMatch(/^03-cut-over \[move\] cut-over core-0/m);
      expect(grow.stdout).toMatch(/moved single-small \(50 peels\) → cluster-3 \(2000 peels\)/);
      expect(grow.stdout).toMatch(/tier cluster-3: healthy/);
      for (const server of ["core-0", "core-1", "core-2"])
        expect(readFileSync(path.join(dir, "servers", server, "nats-server.conf"), "utf8")).toMatch(
          /^max_connections: 7777$/m,
        );
      // The three servers' URLs, where a client connects now.
      const moved = JSON.parse(runScript("local", ["status", "--json", "--state-dir", dir]).stdout) as StatusJson;
      expect(moved.connect.servers).toHaveLength(3);
      expect(grow.stdout).toContain(`servers:  ${moved.connect.servers.join(",")}`);
    } finally {
      const d = runScript("local", ["down", "--purge", "--state-dir", dir]);
      rmSync(countFile, { force: true });
      expect(d.status).toBe(0);
      expect(existsSync(dir)).toBe(false);
    }
  }, 120_000);

  test("in the foreground, Ctrl-C stops every server through lame duck and keeps the data", async () => {
    const dir = tempStateDir("fg");
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, "scripts", "bin", "run.cjs"),
        "local",
        "up",
        "--peels",
        "2000",
        "--state-dir",
        dir,
        "--nats-server",
        SID,
      ],
      { cwd: ROOT },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`not up in time:\n${out}`));
        }, 60_000);
        child.stdout.on("data", () => {
          if (out.includes("Ctrl-C stops")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(out).toMatch(/tier cluster-3: healthy/);
      child.kill("SIGINT");
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code).toBe(0);
      expect(out).toMatch(/stopped 3 servers; data kept/);
      expect(existsSync(path.join(dir, "servers", "core-0", "jetstream"))).toBe(true);
      const st = runScript("local", ["status", "--json", "--state-dir", dir]);
      expect(st.status).toBe(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      runScript("local", ["down", "--purge", "--state-dir", dir]);
    }
  }, 120_000);

  test("bad input exits 2 and names the flag", () => {
    const r = runScript("local", ["up", "--peels", "-4"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--peels: must be a whole number from 0 to 1,000,000; got "-4"/);
    expect(runScript("local", ["up", "--peel-procs", "0"]).stderr).toMatch(/--peel-procs needs --peel-bin/);
    expect(runScript("local", ["up", "--peels=lots"]).stderr).toMatch(
      /--peels: must be a whole number from 0 to 1,000,000; got "lots"/,
    );
    expect(runScript("local", ["frobnicate"]).stderr).toMatch(/unknown command "frobnicate"/);
    const noPeels = runScript("local", ["transition"]);
    expect(noPeels.status).toBe(2);
    expect(noPeels.stderr).toMatch(/--peels: required/);
    const empty = tempStateDir("none");
    const nothing = runScript("local", ["transition", "--peels", "2000", "--state-dir", empty]);
    rmSync(empty, { recursive: true, force: true });
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toMatch(/nothing is up in .*: start a tier with `up` first/);
  });

  test("--sizing is checked as the stack config is, before anything starts: exit 2 naming the entry", () => {
    const regions = (replicate: unknown) =>
      JSON.stringify({ regions: [{ name: "region-0", replicate }, { name: "region-1" }] });
    const toItself = runScript("local", [
      "up",
      "--peels",
      "150000",
      "--sizing",
      regions([{ bucket: "secrets", to: "region-0" }]),
    ]);
    expect(toItself.status).toBe(2);
    expect(toItself.stderr).toMatch(
      /--sizing regions\.0\.replicate\.0\.to: "region-0" is the region that holds secrets; a copy goes to another region: region-1/,
    );
    const unknown = runScript("local", [
      "up",
      "--peels",
      "150000",
      "--sizing",
      regions([{ bucket: "x", to: "region-1" }]),
    ]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--sizing regions\.0\.replicate\.0\.bucket: must be one of the KV buckets: facts, /);
    expect(runScript("local", ["up", "--sizing", "{regions"]).stderr).toMatch(/--sizing: not JSON: \{regions/);
  });
});

test("--master-bin and --peel-bin run Zester next to the servers with the rendered configs", async () => {
  const dir = tempStateDir("zester");
  const fake = path.join(ROOT, "test", "helpers", "fake-zester.cjs");
  try {
    const r = runScript("local", [
      "up",
      "--detach",
      "--peels",
      "60000",
      "--state-dir",
      dir,
      "--nats-server",
      SID,
      "--master-bin",
      fake,
      "--peel-bin",
      fake,
      "--peel-procs",
      "2",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.match(/^zester master master-core-\d/gm)).toHaveLength(5);
    expect(r.stdout.match(/^zester peel peel-\d/gm)).toHaveLength(2);
    const state = JSON.parse(readFileSync(path.join(dir, "state.json"), "utf8")) as {
      auth: { ca: string; peels: Record<string, { key: string }> };
      servers: { role: string; clientUrl: string }[];
    };
    // Each peel process its own identity.
    expect(Object.keys(state.auth.peels).sort()).toEqual(["peel-0", "peel-1"]);
    const nc = await connectAdmin(
      state.servers.filter((s) => s.role === "core").map((s) => s.clientUrl),
      {
        creds: readFileSync(path.join(dir, "identities", "master.creds"), "utf8"),
        ca: state.auth.ca,
        inboxPrefix: "_INBOX.master",
      },
    );
    try {
      const keysOf = async (bucket: string): Promise<string[]> => {
        const out: string[] = [];
        for await (const k of await (await new Kvm(nc).open(bucket)).keys()) out.push(k);
        return out;
      };
      let masters: string[] = [];
      let peels: string[] = [];
      for (let i = 0; i < 100 && (masters.length < 5 || peels.length < 2); i++) {
        await new Promise((res) => setTimeout(res, 100));
        [masters, peels] = await Promise.all([keysOf("master-heartbeat"), keysOf("facts")]);
      }
      expect(masters).toHaveLength(5);
      // Both peels sit behind the leaf site `edge` and reach the core's KV through its domain, each its own key.
      expect(peels.sort()).toEqual(["peel-0", "peel-1"]);
    } finally {
      await nc.close();
    }
  } finally {
    const d = runScript("local", ["down", "--purge", "--state-dir", dir]);
    expect(d.stdout).toMatch(/stopped 11 servers/);
  }
}, 120_000);
