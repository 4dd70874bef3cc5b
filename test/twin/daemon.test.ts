/**
 * The twin daemon: one twin per state directory, kept between CLI commands and driven through its
 * control socket; `exec` as a client of a site's subnet with this machine's files and the
 * command's own streams and exit status; `down` leaves no process, namespace or mount; a daemon
 * that died is reported with the way to clean up, and `down` cleans up after it.
 *
 * @servers
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TwinClient, TwinError } from "../../twin/daemon/client";
import { processesIn } from "../../twin/daemon/process";
import { RecordSchema } from "../../twin/daemon/protocol";
import { serveTwin, type ServedTwin } from "../../twin/daemon/server";
import type { TargetFactory } from "../../twin/daemon/target";
import { runCommand } from "../../twin/host/namespaces";
import { nftTool, xfsprogsTree } from "../helpers/tools";
import { ROOT } from "../helpers/run";

const FIXTURE = path.join(ROOT, "test", "fixtures", "twin-lab-target.cjs");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the fixture is the daemon's module too
const { createTarget } = require(FIXTURE) as { createTarget: TargetFactory };

/** `npm run -s twin -- ARGS`, without blocking this process (a daemon in it must answer). */
async function twinCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  return runCommand([process.execPath, path.join(ROOT, "scripts", "bin", "run.cjs"), "twin", ...args], {
    ...(options.input === undefined ? {} : { input: options.input }),
    env: { ...process.env, ...options.env },
    timeoutMs: 120_000,
  });
}

/** Whether a process runs (not a zombie: the daemon's parent, a CLI that exited, reaps nothing). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, "utf8"));
  } catch {
    return false;
  }
};

const record = (dir: string) => RecordSchema.parse(JSON.parse(readFileSync(path.join(dir, "twin.json"), "utf8")));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a twin served in this process, driven by its client and the CLI", () => {
  let parent: string;
  let dir: string;
  let served: ServedTwin;
  let client: TwinClient;

  beforeAll(async () => {
    parent = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    dir = path.join(parent, "state");
    served = await serveTwin({
      dir,
      tools: { nft: nftTool(), xfsprogs: xfsprogsTree() },
      targetName: "aws",
      target: createTarget,
    });
    client = new TwinClient(dir);
    writeFileSync(path.join(dir, "notes.txt"), "not the twin's\n");
  }, 30_000);

  afterAll(async () => {
    await served.down();
    rmSync(parent, { recursive: true, force: true });
  });

  test("up prints as it goes; describe and status show the machine and its unit", async () => {
    const out: string[] = [];
    expect(await client.up({ stack: "dev", set: [] }, { out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(0);
    expect(out.join("")).toContain("up dev (1)");
    expect(out.join("")).toContain("Created symlink /etc/systemd/system/multi-user.target.wants/lab-echo.service");
    const description = await client.describe();
    expect(description.machines.map((m) => [m.name, m.running, m.units["lab-echo.service"]])).toEqual([
      ["lab-0", true, "active"],
    ]);
    expect(await client.status()).toEqual({ ups: 1, machines: ["lab-0"] });
  }, 30_000);

  test("exec: a client of the site's subnet with this machine's files; the command's own streams and exit status", async () => {
    const script = [
      "read line",
      'echo "got $line from $(ip -4 -o addr show eth0 | cut -d" " -f7)"',
      'test -f package.json && echo "this machine\'s files"',
      `python3 -c 'import socket; print(socket.create_connection(("lab-0.twin.internal", 7000)).recv(99).decode().strip())'`,
      "echo oops >&2",
      "exit 7",
    ].join("\n");
    const r = await twinCli(["aws", "exec", "--state-dir", dir, "--", "sh", "-c", script], { input: "hello\n" });
    expect(r.stdout.split("\n")).toEqual([
      "got hello from 10.0.3.254/24",
      "this machine's files",
      "lab-0:10.0.3.254",
      "",
    ]);
    expect(r.stderr).toBe("oops\n");
    expect(r.status).toBe(7);

    const dmz = await twinCli([
      "aws",
      "exec",
      "--state-dir",
      dir,
      "--site",
      "dmz",
      "--",
      "sh",
      "-c",
      "ip -4 -o addr show eth0",
    ]);
    expect(dmz.stdout).toContain("10.1.3.254/24");
    const nowhere = await twinCli(["aws", "exec", "--state-dir", dir, "--site", "nowhere", "--", "true"]);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toContain('no site "nowhere": the sites are hub, dmz');
    // Each exec's client is gone with its command.
    expect((await client.describe()).machines).toHaveLength(1);
    expect(served.twin.sandbox.addresses().size).toBe(1);
  }, 30_000);

  test("status --json, a failed up's exit status, and a twin of another target refused", async () => {
    const status = await twinCli(["aws", "status", "--json", "--state-dir", dir]);
    expect(JSON.parse(status.stdout)).toEqual({ ups: 1, machines: ["lab-0"] });
    const failed = await twinCli(["aws", "up", "--stack", "dev", "--set", "fail=yes", "--state-dir", dir]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe("up dev (2)\n");
    expect(failed.stderr).toBe("error: the lab target was told to fail\n");
    const other = await twinCli(["kubernetes", "status", "--state-dir", dir]);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain("is the aws twin, not kubernetes");
    const job = await twinCli(["aws", "run-job", "--state-dir", dir]);
    expect([job.status, job.stderr]).toEqual([3, "the lab target has no job\n"]);
  }, 30_000);

  test("down ends everything and removes the twin's own parts only", async () => {
    const userNs = record(dir).userNamespace;
    expect(processesIn(userNs).length).toBeGreaterThan(0);
    const down = await twinCli(["aws", "down", "--state-dir", dir]);
    expect(down.stdout).toContain(`The aws twin in ${dir} is down`);
    await until("no process left in the sandbox", () => processesIn(userNs).length === 0);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
    await expect(client.describe()).rejects.toThrow(TwinError);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(dir);
  }, 30_000);
});

describe("the daemon as a process of its own", () => {
  const env = { ZESTER_TWIN_TARGET_MODULE: FIXTURE };
  /** Each test's state directory's parent: whatever a failed test left, `down` ends and it is removed. */
  const parents: string[] = [];
  const stateDir = () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    parents.push(parent);
    return path.join(parent, "state");
  };

  afterEach(async () => {
    for (const parent of parents.splice(0)) {
      await twinCli(["aws", "down", "--state-dir", path.join(parent, "state")]);
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test("it outlives the command that started it; nothing outlives down", async () => {
    const dir = stateDir();
    const start = Date.now();
    const up = await twinCli(["aws", "up", "--stack", "dev", "--state-dir", dir], { env });
    const upMs = Date.now() - start;
    expect(up.stderr).toContain("Starting the aws twin's daemon");
    expect([up.status, up.stdout]).toEqual([0, "up dev (1)\n"]);
    const { pid, userNamespace } = record(dir);
    expect(alive(pid)).toBe(true);

    const again = await twinCli(["aws", "up", "--stack", "dev", "--state-dir", dir]);
    expect([again.status, again.stdout, again.stderr]).toEqual([0, "up dev (2)\n", ""]);
    const exec = await twinCli([
      "aws",
      "exec",
      "--state-dir",
      dir,
      "--",
      "python3",
      "-c",
      'import socket; print(socket.create_connection(("lab-0.twin.internal", 7000)).recv(99).decode().strip())',
    ]);
    expect(exec.stdout).toBe("lab-0:10.0.3.254\n");

    const downStart = Date.now();
    const down = await twinCli(["aws", "down", "--state-dir", dir]);
    const downMs = Date.now() - downStart;
    expect(down.status).toBe(0);
    await until("the daemon gone", () => !alive(pid));
    // The kernel ends a PID namespace's processes as its first one dies: give it a moment.
    await until("no process left in the sandbox", () => processesIn(userNamespace).length === 0, 2_000);
    // A namespace lives while a process, a mount or an open file holds it: the twin's are held by
    // its processes only, and every mount it made was in them.
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(dir);
    expect(existsSync(dir)).toBe(false);
    console.log(`twin daemon: up (daemon start, first machine booted) ${String(upMs)} ms; down ${String(downMs)} ms`);
  }, 120_000);

  test("a daemon that died is reported with the way to clean up; down ends its remains", async () => {
    const dir = stateDir();
    expect((await twinCli(["aws", "up", "--stack", "dev", "--state-dir", dir], { env })).status).toBe(0);
    const { pid, userNamespace } = record(dir);
    process.kill(pid, "SIGKILL");
    await until("the daemon gone", () => !alive(pid));

    for (const args of [["status"], ["up", "--stack", "dev"], ["exec"]]) {
      const r = await twinCli(["aws", ...args, "--state-dir", dir, ...(args[0] === "exec" ? ["--", "true"] : [])]);
      expect([args[0], r.status]).toEqual([args[0], 1]);
      expect(r.stderr).toContain(`the aws twin in ${dir} died: its daemon (pid ${String(pid)}`);
      expect(r.stderr).toContain(`npm run -s twin -- aws down --state-dir ${dir}`);
    }
    const down = await twinCli(["aws", "down", "--state-dir", dir]);
    expect(down.stdout).toContain("had died; what was left of it is ended and removed");
    expect(processesIn(userNamespace)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);
});
