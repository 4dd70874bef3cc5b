/**
 * The twin's hosts and network: real namespaces, made without root. Each host has its own
 * address, name, root and processes; packets between hosts are filtered as policies say; a cut
 * drops everything; stopping the sandbox leaves nothing behind.
 *
 * @servers
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Sandbox } from "../../twin/host/sandbox";
import { nftTool } from "../helpers/tools";

/** A TCP server on `port` that answers its host's name, as a Node one-liner run on the host. */
const serve = (ports: number[]) =>
  `const net=require("net");const os=require("os");for(const p of [${ports.join(",")}])net.createServer(s=>s.end(os.hostname()+":"+p)).listen(p,"0.0.0.0");`;
/** Connects and prints what it got, or "timeout"/the error code. */
const connect = (host: string, port: number) =>
  `const s=require("net").connect(${String(port)},${JSON.stringify(host)});let d="";s.setTimeout(800,()=>{console.log("timeout");process.exit(0)});s.on("data",x=>d+=x);s.on("end",()=>{console.log(d);process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(0)});`;

/** Processes whose user namespace is `userNs` (a link target like `user:[4026532…]`). */
function processesIn(userNs: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/user`) === userNs;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("the twin's sandbox", () => {
  let sandbox: Sandbox;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    sandbox = await Sandbox.start({ dir, nft: nftTool() });
    await sandbox.addHost({ name: "core-0", address: "10.0.1.10", prefix: 24 });
    await sandbox.addHost({ name: "core-1", address: "10.0.2.10", prefix: 24 });
    await sandbox.addClient({ name: "peel", address: "10.0.3.10", prefix: 24 });
    sandbox.setRecords({ "core-0.zester.internal": ["10.0.1.10"], "core-1.zester.internal": ["10.0.2.10"] });
  }, 30_000);

  afterAll(async () => {
    await sandbox.stop();
  });

  test("each host has its own name, address and root; this machine's files stay out of reach", async () => {
    const name = await sandbox.run("core-0", ["hostname"]);
    expect(name.stdout.trim()).toBe("core-0");
    const address = await sandbox.run("core-1", ["ip", "-4", "-o", "addr", "show", "eth0"]);
    expect(address.stdout).toContain("10.0.2.10/24");
    expect((await sandbox.run("core-0", ["ls", process.cwd()])).status).not.toBe(0);
    await sandbox.writeFile("core-0", "/etc/zester/agent.json", "{}\n");
    expect(await sandbox.readFile("core-0", "/etc/zester/agent.json")).toBe("{}\n");
    expect((await sandbox.run("core-1", ["test", "-e", "/etc/zester/agent.json"])).status).not.toBe(0);
    expect(existsSync("/etc/zester/agent.json")).toBe(false);
    expect((await sandbox.run("core-0", ["cat", "/etc/hosts"])).stdout).toContain("10.0.2.10 core-1.zester.internal");
    // The kernel's own settings are this machine's: only the network's are the host's.
    const sysctl = await sandbox.run("core-0", ["sh", "-c", "sysctl -w fs.file-max=$(sysctl -n fs.file-max)"]);
    expect(sysctl.status).not.toBe(0);
    expect((await sandbox.run("core-0", ["sysctl", "-w", "net.core.somaxconn=4242"])).status).toBe(0);
    expect((await sandbox.run("core-1", ["sysctl", "-n", "net.core.somaxconn"])).stdout.trim()).not.toBe("4242");
  });

  test("hosts in two subnets reach each other by name; a client has this machine's files and the twin's names", async () => {
    const server = sandbox.spawn("core-1", ["node", "-e", serve([4222, 4223])], sandbox.logFile("core-1", "server"));
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const reply = await sandbox.run("core-0", ["node", "-e", connect("core-1.zester.internal", 4222)]);
      expect(reply.stdout.trim()).toBe("core-1:4222");
      const fromClient = await sandbox.run("peel", ["node", "-e", connect("core-1.zester.internal", 4222)]);
      expect(fromClient.stdout.trim()).toBe("core-1:4222");
      expect((await sandbox.run("peel", ["ls", process.cwd()])).status).toBe(0);

      // Only core-0 may reach core-1, and only on 4222.
      await sandbox.setPolicy("10.0.2.10", {
        ingress: [{ cidrs: ["10.0.1.10/32"], protocol: "tcp", ports: [4222, 4222] }],
        egress: "any",
      });
      expect((await sandbox.run("core-0", ["node", "-e", connect("10.0.2.10", 4222)])).stdout.trim()).toBe(
        "core-1:4222",
      );
      expect((await sandbox.run("core-0", ["node", "-e", connect("10.0.2.10", 4223)])).stdout.trim()).toBe("timeout");
      expect((await sandbox.run("peel", ["node", "-e", connect("10.0.2.10", 4222)])).stdout.trim()).toBe("timeout");
      await sandbox.setPolicy("10.0.2.10", undefined);

      // A cut drops everything, then lifts by itself.
      await sandbox.cut("core-1-off", ["10.0.2.10/32"], 1);
      expect((await sandbox.run("core-0", ["node", "-e", connect("10.0.2.10", 4222)])).stdout.trim()).toBe("timeout");
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      expect((await sandbox.run("core-0", ["node", "-e", connect("10.0.2.10", 4222)])).stdout.trim()).toBe(
        "core-1:4222",
      );
    } finally {
      server.kill("SIGKILL");
    }
  }, 30_000);

  test("a host powered off loses its processes and /run, keeps its disk, and boots again with its address", async () => {
    await sandbox.writeFile("core-0", "/var/lib/zester/kept", "disk\n");
    await sandbox.writeFile("core-0", "/run/gone", "memory\n");
    await sandbox.powerOff("core-0");
    expect(sandbox.isRunning("core-0")).toBe(false);
    await sandbox.powerOn("core-0");
    expect(await sandbox.readFile("core-0", "/var/lib/zester/kept")).toBe("disk\n");
    expect(existsSync("/var/lib/zester/kept")).toBe(false);
    expect((await sandbox.run("core-0", ["test", "-e", "/run/gone"])).status).not.toBe(0);
    expect((await sandbox.run("core-0", ["ip", "-4", "-o", "addr", "show", "eth0"])).stdout).toContain("10.0.1.10/24");
  }, 30_000);

  test("stopping the sandbox ends every process and namespace in it and removes its directory", async () => {
    const probe = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    const other = await Sandbox.start({ dir: probe, nft: nftTool() });
    await other.addHost({ name: "h", address: "10.9.0.2", prefix: 24 });
    other.spawn("h", ["sleep", "600"], other.logFile("h", "sleep"));
    const userNs = readlinkSync(`/proc/${String(other.pid)}/ns/user`);
    expect(processesIn(userNs).length).toBeGreaterThanOrEqual(3);
    await other.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processesIn(userNs)).toEqual([]);
    expect(existsSync(probe)).toBe(false);
    // The machine's own mounts are untouched: nothing of the twin's is mounted here.
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain("twin-root");
  }, 30_000);
});
